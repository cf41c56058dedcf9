/*
 * exporter_int.h - what the files of exporter/ share only with each other
 * (and with the unit tests): the serve config, the scheduler and its
 * per-check state, the /metrics renderer, /probe, and the HTTP glue.
 * Never included from probe/ or suites/.
 */
#ifndef VD_EXPORTER_INT_H
#define VD_EXPORTER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "../probe/probe.h"
#include "../suites/suite.h"
#include "exporter.h"

/* --- configuration (config.c) ------------------------------------- */

/* One allowlist entry of a /probe module. */
enum vd_exp_allow_kind {
	VD_ALLOW_ANY,	 /* "*" */
	VD_ALLOW_NAME,	 /* "host.example.com" (exact, case-insensitive) */
	VD_ALLOW_SUFFIX, /* "*.example.com": subdomains only */
	VD_ALLOW_NET4,	 /* "10.0.0.0/8", "127.0.0.1" */
	VD_ALLOW_NET6,	 /* "fd00::/8", "::1" */
};

struct vd_exp_allow {
	enum vd_exp_allow_kind kind;
	char *name;		/* NAME: the host; SUFFIX: ".example.com" */
	unsigned char addr[16]; /* NET4: 4 bytes used; NET6: 16 */
	unsigned prefix;	/* bits */
};

struct vd_exp_module {
	char *name;
	cJSON *tmpl; /* the check template (no name, no target keys) */
	enum vd_target_kind target; /* the check type's (its table entry) */
	double timeout; /* seconds, per attempt: the template's, as the loader
			   parsed it */
	struct vd_exp_allow *allow;
	size_t nallow; /* 0: /probe refuses every target of the module */
};

struct vd_exp_user {
	char *name;
	char *hash; /* crypt(3) string: $6$..., $2b$..., $y$... */
};

struct vd_exp_config {
	struct vd_suite *suite;	    /* the checks; suite->root holds the rest */
	char *listen;		    /* "127.0.0.1:9799" */
	double every;		    /* seconds: default interval of checks */
	unsigned max_connections;   /* HTTP connections at once */
	unsigned max_per_client;    /* of those, from one client address */
	unsigned conn_timeout;	    /* seconds an idle connection lives */
	double request_timeout;	    /* seconds from a request's first byte
				     * to its last (headers and body) */
	unsigned probe_concurrency; /* /probe checks in flight at most */
	bool enable_lifecycle;	    /* POST /-/reload allowed */
	struct vd_exp_user *users;
	size_t nusers; /* 0: no authentication */
	struct vd_exp_module *modules;
	size_t nmodules;
};

/*
 * Loads a serve config (a suite file with the extra top-level keys
 * "serve" and "modules"). Returns 0 and sets *out, or VD_ERR_CONFIG /
 * VD_ERR_IO with a one-line message naming the file and place in err.
 */
int vd_exp_config_load(const char *path, struct vd_exp_config **out, char *err,
		       size_t errlen);
/* The same from memory (name is used in messages). */
int vd_exp_config_parse(const char *text, size_t len, const char *name,
			struct vd_exp_config **out, char *err, size_t errlen);
void vd_exp_config_free(struct vd_exp_config *cfg);
const struct vd_exp_module *vd_exp_module_find(const struct vd_exp_config *cfg,
					       const char *name);
/*
 * True if host (a name, or an IPv4/IPv6 literal without brackets) is
 * allowed by the module's list. Names are never matched against networks:
 * an address entry admits only targets written as addresses.
 */
bool vd_exp_allowed(const struct vd_exp_module *m, const char *host);

/* Longest host name (bytes), as DNS allows. */
#define VD_EXP_HOST_MAX 253
/* True if s is 1 to max bytes of letters, digits and bytes from extra
 * (module names: "_-."; host names: "-._", targets also ":"). */
bool vd_exp_name_ok(const char *s, size_t max, const char *extra);

/*
 * Builds the one-check suite a /probe runs: the module's template with
 * url (VD_TARGET_URL) or host and port (VD_TARGET_HOST; port <= 0: left
 * to the template) filled in, and the per-attempt timeout (seconds; <= 0:
 * the template's). Returns NULL with a message in err when the result is
 * not a valid check.
 */
struct vd_suite *vd_exp_module_check(const struct vd_exp_module *m,
				     const char *url, const char *host,
				     long port, double timeout, char *err,
				     size_t errlen);

/* --- basic auth (auth.c) ------------------------------------------ */

/*
 * Password checks off the loop: crypt(3) runs on a small worker pool, a
 * bounded cache remembers credentials that verified (keyed by a salted
 * SHA-256 of user, password and stored hash, each length-prefixed), and
 * an unknown user costs a hash of the first user's algorithm and cost.
 */
struct vd_exp_auth;
struct vd_exp_auth_job;

struct vd_exp_auth *vd_exp_auth_new(struct ev_loop *loop);
/* Abandons every job (no callback runs), frees. NULL: no-op. */
void vd_exp_auth_free(struct vd_exp_auth *a);

enum vd_exp_auth_answer {
	VD_AUTH_OK,	 /* known at once: a cached credential */
	VD_AUTH_DENIED,	 /* known at once: malformed input */
	VD_AUTH_PENDING, /* cb(udata, ok) will be called from the loop */
};

typedef void vd_exp_auth_cb(void *udata, bool ok);

/*
 * Checks user/password against cfg's users (cfg->nusers > 0). On
 * VD_AUTH_PENDING *job is the handle for vd_exp_auth_cancel() until cb
 * runs; cb is never called from inside this function. user and password
 * are copied (the copy is wiped when done).
 */
enum vd_exp_auth_answer
vd_exp_auth_start(struct vd_exp_auth *a, const struct vd_exp_config *cfg,
		  const char *user, const char *password, vd_exp_auth_cb *cb,
		  void *udata, struct vd_exp_auth_job **job);
/* Gives a pending check up: cb is not called. NULL: no-op. */
void vd_exp_auth_cancel(struct vd_exp_auth_job *job);
/* Jobs waiting for a worker plus running (for tests and metrics). */
unsigned vd_exp_auth_pending(const struct vd_exp_auth *a);
/* The synchronous check a worker runs: true if password matches the
 * crypt(3) hash (constant-time comparison). */
bool vd_exp_hash_verify(const char *hash, const char *password);

/* --- per-check state and the scheduler (schedule.c) ---------------- */

enum { VD_RUNS_PASS, VD_RUNS_FAIL, VD_RUNS_ERROR, VD_RUNS_COUNT };

struct vd_exp_sched;
struct vd_exp_run;

/*
 * One scheduled check: its labels, its latest result (as the numbers the
 * renderer needs, no facts are searched at scrape time) and its timer.
 */
/* A step of a flow's latest run, for the per-step series. */
struct vd_exp_step {
	char *label; /* step="login" (masked, escaped) */
	size_t label_len;
	bool passed;
	double seconds; /* the step's own time; < 0 unknown */
};

struct vd_exp_entry {
	const struct vd_check *chk;
	char *labels; /* check="..",type="..",stage=".." (escaped) */
	size_t labels_len;
	/* the latest result */
	bool has_result;
	enum vd_status status;
	enum vd_reason reason;
	int attempts;
	double last_run;	       /* unix seconds the latest run ended */
	double duration;	       /* seconds, all attempts */
	double phases[VD_PHASE_COUNT]; /* seconds, last attempt; < 0 unknown */
	double http_status;	       /* < 0: no status */
	bool http_seen;	      /* a status was ever seen: report 0 then */
	double tls_not_after; /* unix seconds; < 0: unknown */
	uint64_t runs[VD_RUNS_COUNT];
	struct vd_exp_step *steps; /* a flow's steps that the run reached */
	size_t nsteps;
	/* the schedule */
	double every; /* seconds */
	double due;   /* ev_now() base: when the next run is due */
	bool running;
	ev_timer timer;
	struct vd_probe *probe;
	struct vd_exp_run *run; /* the probe's udata while running */
	struct vd_exp_sched *sched;
};

/* Sets e->labels from a check's name, type and stage (escaped). */
void vd_exp_entry_labels(struct vd_exp_entry *e, const char *name,
			 const char *type, const char *stage);
/* Sets e's steps from a result (labels made here); frees the old ones. */
void vd_exp_entry_steps(struct vd_exp_entry *e, const struct vd_result *res);
/* Records a final result: the snapshot and the runs counters. */
void vd_exp_entry_record(struct vd_exp_entry *e, const struct vd_result *res);

/* Lag of scheduled runs (start minus due), a window for quantiles. */
#define VD_LAG_WINDOW 16384

struct vd_exp_lag {
	double ring[VD_LAG_WINDOW];
	size_t n; /* samples in the ring (<= window) */
	size_t next;
	double sum; /* seconds, every sample ever */
	uint64_t count;
	uint64_t missed; /* due times skipped: the run was still going */
};

struct vd_exp_sched {
	struct ev_loop *loop;
	struct vd_prober *prober;
	struct vd_exp_entry *entries; /* fixed array: timers point into it */
	size_t n;
	struct vd_exp_lag *lag; /* shared across reloads, not owned */
};

/*
 * Makes a schedule for every check of cfg (each on its own interval, the
 * first run spread over one interval by a hash of its name). State of
 * checks of the same name and type in prev (may be NULL) is carried over:
 * latest result, counters and phase. A check whose definition (its JSON
 * after ${VAR} and defaults) and interval are the same in prev_suite (the
 * suite prev was made from) keeps its schedule, and its run in flight
 * goes on when prober is prev's: the new suite then takes the old check
 * object from prev_suite (and gives it the fresh one). Other runs in
 * flight in prev are cancelled and run again at once. prev must be freed
 * after, and before prev_suite. Nothing starts until vd_exp_sched_start().
 */
struct vd_exp_sched *
vd_exp_sched_new(struct ev_loop *loop, struct vd_prober *prober,
		 const struct vd_exp_config *cfg, struct vd_exp_sched *prev,
		 struct vd_suite *prev_suite, struct vd_exp_lag *lag);
void vd_exp_sched_start(struct vd_exp_sched *s);
/* Stops timers, cancels probes in flight, frees. NULL is a no-op. */
void vd_exp_sched_free(struct vd_exp_sched *s);

/* --- /metrics (metrics.c) ------------------------------------------ */

/* A growable output buffer, one allocation for a whole scrape. */
struct vd_exp_out {
	char *data;
	size_t len;
	size_t cap;
};

void vd_exp_out_reserve(struct vd_exp_out *o, size_t more);
void vd_exp_out_put(struct vd_exp_out *o, const char *s, size_t n);
void vd_exp_out_puts(struct vd_exp_out *o, const char *s);
void vd_exp_out_num(struct vd_exp_out *o, double v);
/* Appends s escaped as a label value: \\, \", \n; bad UTF-8 -> U+FFFD. */
void vd_exp_out_label_value(struct vd_exp_out *o, const char *s);
/* "# HELP name help\n# TYPE name type\n" */
void vd_exp_out_family(struct vd_exp_out *o, const char *name, const char *type,
		       const char *help);
/* "name{labels} v\n" (labels NULL: "name v\n"); labels already escaped. */
void vd_exp_out_sample(struct vd_exp_out *o, const char *name,
		       const char *labels, double v);
/* A family with a single sample: vd_exp_out_family + vd_exp_out_sample. */
void vd_exp_out_metric(struct vd_exp_out *o, const char *name, const char *type,
		       const char *help, const char *labels, double v);

/*
 * Formats v the way the text format wants it, shortest sensible form:
 * integers without a point, up to 15 significant digits otherwise, NaN,
 * +Inf, -Inf. out needs 32 bytes. Returns the length (no NUL written
 * beyond it is promised).
 */
size_t vd_exp_fmt_num(char *out, double v);

/* Process figures from /proc/self (NaN where unknown). */
struct vd_exp_proc {
	double cpu_seconds;
	double rss_bytes;
	double vsize_bytes;
	double open_fds;
	double max_fds;
	double start_time; /* unix seconds */
};

void vd_exp_proc_read(struct vd_exp_proc *p);

/* The HTTP front's counters, for /metrics (verdict_serve_*). */
struct vd_exp_http_stats {
	double connections;    /* open now */
	uint64_t accepted;     /* connections ever accepted */
	uint64_t evicted;      /* closed to make room for a newcomer */
	uint64_t timed_out;    /* requests that missed request_timeout */
	uint64_t rejected;     /* newcomers refused: client at its limit */
	uint64_t bad_requests; /* answered 4xx before routing */
	double auth_pending;   /* password checks queued or running */
};

struct vd_exp_metrics_in {
	const struct vd_exp_entry *entries;
	size_t n;
	const char *suite; /* suite name */
	bool reload_ok;
	double reload_ok_time;		/* unix seconds of the last good load */
	const struct vd_exp_lag *lag;	/* may be NULL */
	double inflight;		/* scheduled checks running now */
	double last_render;		/* seconds the previous render took */
	const struct vd_exp_proc *proc; /* may be NULL */
	const struct vd_exp_http_stats *http; /* may be NULL */
};

/* Renders the whole /metrics page into o (appended). */
void vd_exp_render_metrics(struct vd_exp_out *o,
			   const struct vd_exp_metrics_in *in);

/* --- the server (serve.c, http_server.c, probe_endpoint.c) --------- */

struct vd_exp_http;
struct vd_exp_probe;

/* The running exporter: one per `verdict serve`. */
struct vd_exp {
	struct ev_loop *loop;
	char *path; /* config file */
	struct vd_exp_config *cfg;
	struct vd_prober *prober;  /* scheduled checks */
	struct vd_prober *pprober; /* /probe requests */
	struct vd_exp_sched *sched;
	struct vd_exp_lag lag;
	struct vd_exp_http *http;
	bool reload_ok;
	double reload_ok_time;
	double last_render;	  /* seconds */
	struct vd_exp_page *page; /* the latest /metrics page, or NULL */
	unsigned npages;	  /* pages alive (sent or latest) */
};

/*
 * A rendered /metrics page, shared by the responses sending it. A scrape
 * that comes while the current page is still being sent to someone gets
 * that page if it is younger than VD_PAGE_SHARE, or (under a crowd of
 * scrapers) if VD_PAGE_MAX pages are alive already; any other scrape
 * renders, into the old buffer when no response holds it (no allocation,
 * no page faults for a multi-megabyte page). So a crowd of scrapers costs
 * one render per VD_PAGE_SHARE and VD_PAGE_MAX pages of memory at most,
 * and a lone scraper always gets a fresh page.
 */
#define VD_PAGE_SHARE 1.0 /* seconds */
#define VD_PAGE_MAX   2

struct vd_exp_page {
	struct vd_exp_out out;
	struct vd_exp_out gz; /* out gzip-compressed, once asked for (set on
			       * the loop only) */
	bool gz_ok;	      /* gz holds the current out */
	unsigned refs;	      /* ex->page's own, plus one per response */
	double rendered;      /* ev_now() */
	unsigned *live;	      /* the exporter's count of pages alive */
};

/* Drops a reference (void * for a response's free callback). */
void vd_exp_page_unref(void *page);
/* (page.c) Compresses in[0, len) into out (gzip wrapper, zlib level 1). Returns
 * false if zlib fails. Thread-safe: the HTTP front runs it on a worker
 * thread, on a page nobody renders into while it holds a reference. */
bool vd_exp_gzip(const char *in, size_t len, struct vd_exp_out *out);

/* What /probe was asked. */
struct vd_exp_probe_args {
	const char *module;
	const char *target;
	bool debug;
	double scrape_timeout; /* seconds from X-Prometheus-Scrape-Timeout-
				* Seconds (0 sent: 120, as blackbox);
				* <= 0: not sent */
};

/*
 * Called once when a /probe finished: status is the HTTP status, body a
 * malloc'ed string the callee owns. Never called from inside
 * vd_exp_probe_start().
 */
typedef void vd_exp_probe_done_cb(void *udata, unsigned status,
				  const char *ctype, char *body, size_t len);

/*
 * Starts a /probe. Returns a handle, or NULL when the request is refused
 * at once: then *status and *body (malloc'ed text) say why (400, 403,
 * 404).
 */
struct vd_exp_probe *vd_exp_probe_start(struct vd_exp *ex,
					const struct vd_exp_probe_args *a,
					vd_exp_probe_done_cb *cb, void *udata,
					unsigned *status, char **body);
/* Stops a /probe; its callback is not called. NULL is a no-op. */
void vd_exp_probe_cancel(struct vd_exp_probe *p);

/* --- HTTP requests (http_server.c; pure functions, fuzzed) ---------- */

#define VD_HTTP_MAX_ARGS 64 /* query arguments in one request */

struct vd_exp_http_arg {
	char *key, *val; /* percent-decoded */
};

/* One parsed request head; the char pointers point into the parsed
 * buffer, except path and the args (owned: vd_exp_http_request_clear). */
struct vd_exp_http_request {
	char *method;
	char *path; /* percent-decoded */
	char *target_raw;
	bool http10;
	bool keepalive;
	bool head;
	char *authorization;
	char *accept_encoding;
	char *scrape_timeout; /* X-Prometheus-Scrape-Timeout-Seconds */
	size_t content_length;
	struct vd_exp_http_arg args[VD_HTTP_MAX_ARGS];
	size_t nargs;
	char *argbuf; /* the decoded query (owned) */
};

/* Where a request head in buf[0, len) ends (just past its blank line),
 * or 0; the search may start at from (bytes already searched). */
size_t vd_exp_http_head_end(const char *buf, size_t len, size_t from);
/*
 * Parses the request head buf[0, len) in place (the caller clears rq
 * with vd_exp_http_request_clear() whatever the result). Returns 0, or
 * the HTTP status to answer (400, 413, 431, 501, 505) with *why a short
 * text for the answer. A NUL or control byte anywhere is a 400, so are
 * more than VD_HTTP_MAX_ARGS query arguments.
 */
unsigned vd_exp_http_parse(char *buf, size_t len,
			   struct vd_exp_http_request *rq, const char **why);
void vd_exp_http_request_clear(struct vd_exp_http_request *rq);
/* True if an Accept-Encoding value admits gzip (q=0 refuses it). */
bool vd_exp_http_wants_gzip(const char *ae);
/*
 * X-Prometheus-Scrape-Timeout-Seconds as blackbox_exporter reads it (Go's
 * ParseFloat; 0 means 120): false when it does not parse. *out: seconds,
 * 0 when v is NULL, -1 when the module's timeout applies.
 */
bool vd_exp_http_scrape_timeout(const char *v, double *out);
/*
 * "Basic base64(user:password)", the scheme in any case (RFC 7617).
 * Returns the decoded "user:password" (the caller wipes and frees it)
 * with *colon at its first ':', or NULL.
 */
char *vd_exp_http_basic(const char *h, char **colon);

/*
 * What the front serves that the server owns, so that the front calls
 * nothing of serve.c by name. metrics: the page to send for one scrape,
 * with a reference the front drops with vd_exp_page_unref(). reload:
 * reloads the config (0, or an error with the message in err).
 */
struct vd_exp_routes {
	struct vd_exp_page *(*metrics)(void *ctx);
	int (*reload)(void *ctx, char *err, size_t errlen);
	void *ctx;
};

/* (serve.c) The routes of the running exporter ex: its /metrics page
 * cache and its reload. */
struct vd_exp_routes vd_exp_routes(struct vd_exp *ex);

/*
 * Starts serving on the listening socket fd (taken over); routes is
 * copied. Returns NULL after logging when it cannot.
 */
struct vd_exp_http *vd_exp_http_start(struct vd_exp *ex, int fd,
				      const struct vd_exp_routes *routes);
/* Answers requests still waiting (503), stops, frees. NULL: no-op. */
void vd_exp_http_stop(struct vd_exp_http *h);
/* The front's counters (NULL for NULL). */
const struct vd_exp_http_stats *vd_exp_http_stats(struct vd_exp_http *h);

/*
 * Opens a listening TCP socket on "host:port", "[v6]:port" or ":port".
 * Returns the fd, or -1 with a message in err.
 */
int vd_exp_listen(const char *addr, char *err, size_t errlen);

#endif
