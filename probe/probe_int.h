/*
 * probe_int.h - what the prober shares only with itself: per-prober shared
 * state for check types, the trust store, worker threads, searches off the
 * loop, name resolution and TCP connections. No libcurl here (http_int.h
 * has it, for the HTTP-speaking types). Never included from outside
 * probe/.
 */
#ifndef VD_PROBE_INT_H
#define VD_PROBE_INT_H

#include "../lib/match.h"
#include "probe.h"
#include "../lib/util.h"

/*
 * Returns the state a check type shares across attempts of one prober
 * (a curl multi handle, an SSL_CTX cache, ...), creating it with create()
 * on first use; destroy() runs when the prober is freed. key identifies
 * the state (use a string literal of the type's own).
 */
void *vd_prober_shared(struct vd_prober *p, const char *key,
		       void *(*create)(struct vd_prober *p),
		       void (*destroy)(void *state));

/*
 * The prober's trust store (lib/trust.h), created on first use: one for
 * its HTTPS transfers (vd_trust_curl) and its tls checks (vd_trust_ssl),
 * so a ca_file or the default store is parsed once per change of its
 * file and reaches every check that speaks TLS alike.
 */
struct vd_trust;
struct vd_trust *vd_prober_trust(struct vd_prober *p);

/* --- worker threads for calls that must not run on the loop
 *     (probe/workers.c) --- */

struct vd_workers;
struct vd_job;

typedef void vd_job_fn(void *arg);

/*
 * A pool of at most max_threads worker threads, started on demand with
 * every signal blocked, answering to loop through one ev_async (which does
 * not keep the loop alive). Make one per prober: create it from the
 * create() of vd_prober_shared() and free it from its destroy().
 *
 * How vd_workers_free() ends the threads is the one choice:
 *  - join false: threads are detached and outlive the pool's owner; a
 *    worker still in run() finishes it, discards the job and exits, and the
 *    last one out frees the pool (it is reference counted). For jobs that
 *    may block for seconds (getaddrinfo): freeing the prober never waits.
 *  - join true: vd_workers_free() waits for running jobs to end and joins
 *    every thread. Only for jobs that never block long (PQconnectPoll on a
 *    non-blocking socket); it lets per-thread library state (OpenSSL's) be
 *    freed before the process exits, which LSan otherwise reports.
 */
struct vd_workers *vd_workers_new(struct ev_loop *loop, unsigned max_threads,
				  bool join);
/* Stops the pool: jobs queued or waiting for the loop are discarded here,
 * running ones by their worker; done() is never called again. NULL: no-op. */
void vd_workers_free(struct vd_workers *w);

/*
 * Hands arg over to the pool: run(arg) runs on a worker thread, then
 * done(arg) on the loop (never from inside vd_job_submit(); a done() may
 * abandon other jobs). Returns the job, valid until done() or discard()
 * starts, or NULL when no thread can be had (nothing was handed over).
 * Only one side touches arg at a time: the hand-overs are under the pool's
 * mutex.
 */
struct vd_job *vd_job_submit(struct vd_workers *w, vd_job_fn *run,
			     vd_job_fn *done, vd_job_fn *discard, void *arg);
/*
 * From the loop: gives a job up; done() is not called. discard(arg) runs
 * on whichever side holds arg last: here, if the job is queued or waiting
 * for the loop, or on the worker once run() returns. NULL: no-op.
 */
void vd_job_abandon(struct vd_job *j);

/* --- pattern searches off the loop (probe/search.c) --- */

struct vd_search;

/* Called once, from the loop, with the answer of vd_regex_search(). */
typedef void vd_search_cb(enum vd_match m, const char *limit, void *udata);

/*
 * Searches a copy of subject[0, len) for re on the prober's search pool
 * (re is referenced, so the check may be freed meanwhile). cb is never
 * called from inside vd_search_start(). Returns a handle to free with
 * vd_search_free() (from cancel or from cb), or NULL after finishing the
 * attempt as an internal error when no thread could be had (cb is then
 * never called).
 */
struct vd_search *vd_search_start(struct vd_attempt *att,
				  const struct vd_regex *re,
				  const char *subject, size_t len,
				  vd_search_cb *cb, void *udata);
/* The same, keeping the first capture group (else the whole match),
 * which vd_search_captured() returns once cb is called with
 * VD_MATCH_YES (owned by the search; NULL otherwise). */
struct vd_search *vd_search_capture_start(struct vd_attempt *att,
					  const struct vd_regex *re,
					  const char *subject, size_t len,
					  vd_search_cb *cb, void *udata);
const char *vd_search_captured(const struct vd_search *s);
/* Gives a search up (cb is not called) or frees a finished one. NULL:
 * no-op. */
void vd_search_free(struct vd_search *s);

/*
 * Finishes an attempt whose expectation did not hold: m == VD_MATCH_LIMIT
 * is an error of kind limit (nothing was judged), VD_MATCH_NO a failure
 * of kind 'kind'. The reason is formatted as vd_attempt_finish() does.
 */
void vd_attempt_finish_mismatch(struct vd_attempt *att, enum vd_match m,
				enum vd_reason kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* --- name resolution off the loop (probe/resolve.c) --- */

struct addrinfo;
struct vd_resolve;

/*
 * Called once with the addresses of a lookup (the callee owns ai and frees
 * it with freeaddrinfo) or ai NULL and a getaddrinfo error code (with
 * EAI_SYSTEM, errno holds the cause while cb runs). Never called from
 * inside vd_resolve_start().
 */
typedef void vd_resolve_cb(struct addrinfo *ai, int gai_err, void *udata);

/*
 * Resolves host:port (socktype SOCK_STREAM, ...) without blocking the
 * loop; numeric addresses resolve at once (still through cb, from the
 * loop). Returns a handle valid until cb runs or vd_resolve_cancel().
 */
struct vd_resolve *vd_resolve_start(struct vd_prober *p, const char *host,
				    const char *port, int socktype,
				    vd_resolve_cb *cb, void *udata);
/* Stops a lookup; cb is not called. NULL is a no-op. */
void vd_resolve_cancel(struct vd_resolve *r);

/* --- a TCP connection for an attempt (probe/resolve.c) --- */

struct vd_connect;

/* Called once with a connected non-blocking socket; the callee owns fd. */
typedef void vd_connect_cb(int fd, void *udata);

/*
 * Resolves host (vd_resolve) and connects to its addresses in order,
 * without blocking; sets the attempt's resolve and connect timings and
 * the fact "address" ("127.0.0.1:443"). On failure it finishes the
 * attempt (dns, refused, connect) and cb is never called. cb is never
 * called from inside vd_connect_start(). Never returns NULL; free the
 * handle with vd_connect_free() (from cancel), whatever happened.
 */
struct vd_connect *vd_connect_start(struct vd_attempt *att, const char *host,
				    const char *port, vd_connect_cb *cb,
				    void *udata);
/* Stops connecting and closes a socket not yet handed over. NULL: no-op. */
void vd_connect_free(struct vd_connect *c);

#endif
