/*
 * probe.h - the prober's public face: checks, results, the check-type
 * vtable, the engine that runs checks on one libev loop, and suite runs.
 * Depends on libev, cJSON and lib/ only; nothing in suites/, exporter/ or
 * deployer/ is visible from here.
 */
#ifndef VD_PROBE_H
#define VD_PROBE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <ev.h>

#include "../lib/err.h"
#include "../lib/tls_opts.h"

#define VD_VERSION "0.1.0"

enum vd_status {
	VD_STATUS_PASS = 0,
	VD_STATUS_FAIL,	   /* the target answered, the answer is wrong */
	VD_STATUS_ERROR,   /* no answer to judge (timeout, refused, ...) */
	VD_STATUS_SKIPPED, /* not run: an earlier stage failed */
};

const char *vd_status_name(enum vd_status st);

/*
 * A bounded, fixed set of reasons, usable as a metric label value.
 * Every result that is not a pass carries one.
 */
enum vd_reason {
	VD_REASON_NONE = 0,
	VD_REASON_TIMEOUT,
	VD_REASON_DNS,
	VD_REASON_REFUSED,
	VD_REASON_CONNECT,     /* other connect failures: unreachable, reset */
	VD_REASON_TLS,	       /* handshake or certificate problem */
	VD_REASON_PROTOCOL,    /* malformed answer, reset mid-body, too large */
	VD_REASON_STATUS,      /* unexpected status code */
	VD_REASON_BODY,	       /* body_contains / body_regex / json mismatch */
	VD_REASON_HEADER,      /* header expectation not met */
	VD_REASON_SLOW,	       /* answered, but slower than max_time */
	VD_REASON_REDIRECT,    /* redirect loop or too many redirects */
	VD_REASON_AUTH,	       /* authentication refused */
	VD_REASON_UNAVAILABLE, /* up but not serving: starting, full, loading */
	VD_REASON_VALUE,       /* a query/command returned the wrong value */
	VD_REASON_POLICY,   /* security header, CORS or file policy finding */
	VD_REASON_SKIPPED,  /* an earlier stage failed */
	VD_REASON_INTERNAL, /* verdict itself could not run the check */
	VD_REASON_LIMIT,    /* judging hit a budget: a pattern's match limit */
	VD_REASON_COUNT
};

const char *vd_reason_name(enum vd_reason r);

enum vd_phase {
	VD_PHASE_RESOLVE = 0,
	VD_PHASE_CONNECT,
	VD_PHASE_TLS,
	VD_PHASE_FIRST_BYTE, /* request sent to first response byte */
	VD_PHASE_TOTAL,
	VD_PHASE_COUNT
};

const char *vd_phase_name(enum vd_phase ph);

enum vd_fact_kind { VD_FACT_STR, VD_FACT_NUM, VD_FACT_BOOL };

/*
 * A type-specific fact about a result. Keys shared by several types (the
 * exporter reads them; keep the names):
 *   http_status (num), http_redirects (num), body_truncated (bool),
 *   tls_verify (bool: false when verification was off or failed),
 *   tls_verify_error (str), tls_version (str "TLSv1.3"), tls_cipher (str),
 *   tls_not_after / tls_not_before (num, unix seconds of the leaf),
 *   tls_earliest_not_after (num, unix seconds, whole chain),
 *   tls_days_left (num), tls_subject, tls_issuer, tls_sans (str),
 *   tls_chain_length (num), server_version (str), findings (str).
 * Detail facts, recorded by HTTP checks only when chk->detail is set:
 *   http_version (num: 1.0, 1.1, 2, 3), http_ssl (bool: the final
 *   response came over TLS), http_content_length (num, -1: not sent),
 *   http_body_bytes (num), ip_protocol (num: 4 or 6), and from the peer's
 *   certificate chain tls_not_after, tls_earliest_not_after, tls_version.
 */
struct vd_fact {
	char *key;
	enum vd_fact_kind kind;
	char *str;  /* VD_FACT_STR */
	double num; /* VD_FACT_NUM */
	bool b;	    /* VD_FACT_BOOL */
};

/* One step of a multi-step check (a flow), as reports show it. */
struct vd_step {
	char *name;			/* masked */
	enum vd_status status;		/* pass, fail or error */
	long http_status;		/* 0: no response */
	double timings[VD_PHASE_COUNT]; /* seconds; < 0: unknown */
	char *reason; /* one line, masked; "" for a plain pass */
};

struct vd_result {
	enum vd_status status;
	enum vd_reason reason_kind;
	char *reason;	 /* one line, secrets masked; "" for a plain pass */
	int attempts;	 /* attempts made, >= 1 unless skipped */
	double started;	 /* unix time (seconds) the first attempt began */
	double duration; /* seconds, first attempt start to last attempt end */
	double timings[VD_PHASE_COUNT]; /* seconds, last attempt; < 0: unknown
					 */
	struct vd_fact *facts;
	size_t nfacts;
	size_t facts_cap;
	struct vd_step *steps; /* flows: the steps that ran, in order */
	size_t nsteps;
};

void vd_result_init(struct vd_result *res);
/* Frees what res owns and re-initialises it. */
void vd_result_clear(struct vd_result *res);
/* Deep copy; dst must be initialised (its old contents are cleared). */
void vd_result_copy(struct vd_result *dst, const struct vd_result *src);
/* Setting a key that exists replaces its value. Strings are masked. */
void vd_result_fact_str(struct vd_result *res, const char *key,
			const char *val);
void vd_result_fact_num(struct vd_result *res, const char *key, double val);
void vd_result_fact_bool(struct vd_result *res, const char *key, bool val);
/* Appends a step (name and reason are masked and copied). */
void vd_result_step(struct vd_result *res, const char *name, enum vd_status st,
		    long http_status, const double timings[VD_PHASE_COUNT],
		    const char *reason);
/* Returns the fact or NULL. */
const struct vd_fact *vd_result_fact(const struct vd_result *res,
				     const char *key);

/* TLS options, meaning the same on every check that speaks TLS. */
struct vd_check_type;
struct vd_cfg;
struct sockaddr;

/*
 * Where a check may connect, asked by the prober before every connection
 * an HTTP check makes (every hop of a redirect chain) and by the tcp and
 * tls checks: once with the host as written in the URL or suite (an
 * address literal without brackets) and addr NULL, then once per address
 * that host resolved to. Returns NULL to allow, or a short phrase saying
 * why not ("not in the allow list of module http_2xx"), which must stay
 * valid until the attempt ends. Runs on the loop; MUST NOT block.
 */
typedef const char *vd_hop_judge_fn(void *ctx, const char *host,
				    const struct sockaddr *addr);

/* What an address is, for address policies (netaddr.c). */
enum vd_addr_class {
	VD_ADDR_PUBLIC = 0, /* globally routable unicast */
	VD_ADDR_LOOPBACK,   /* 127.0.0.0/8, ::1 */
	VD_ADDR_PRIVATE, /* 10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10 */
	VD_ADDR_LINK_LOCAL, /* 169.254.0.0/16, fe80::/10 */
	VD_ADDR_METADATA,   /* cloud metadata services: 169.254.169.254,
			     * fd00:ec2::254, 100.100.100.200 */
	VD_ADDR_SPECIAL, /* unspecified, multicast, reserved, documentation */
};

/* Classifies an AF_INET or AF_INET6 address (IPv4-mapped IPv6 addresses
 * as the IPv4 one); anything else is VD_ADDR_SPECIAL. */
enum vd_addr_class vd_addr_classify(const struct sockaddr *sa);
/* "link-local", "cloud metadata", ... (static). */
const char *vd_addr_class_name(enum vd_addr_class c);
/* The numeric address, without brackets or port, into buf ("?" when it
 * cannot be formatted). */
void vd_addr_format(const struct sockaddr *sa, char *buf, size_t len);

struct vd_check {
	char *name;
	const struct vd_check_type *type;
	char *stage;	      /* stage name */
	unsigned stage_index; /* stages run in order of first use */
	bool critical;	      /* false: a warning, never fails the run */
	char **tags;
	size_t ntags;
	double timeout;	 /* seconds, per attempt */
	int retries;	 /* extra attempts after the first */
	double interval; /* seconds between attempts */
	/* which failed attempts are retried ("retry_on"); when retry_on_set
	 * is false, what can heal (vd_retry_wanted) */
	bool retry_on_set;
	unsigned retry_kinds;  /* bit 1 << enum vd_reason */
	unsigned retry_status; /* bit 1 << N: HTTP status Nxx (N 1-5) */
	bool retry_handshake;  /* an error of kind tls before a certificate
				* was judged (reset, closed, alert) */
	double every; /* seconds between scheduled runs (serve); 0: default */
	size_t max_body; /* bytes read from a peer at most */
	struct vd_tls_opts tls;
	char *target; /* what is probed, for people; secrets masked */
	void *conf;   /* the type's parsed configuration */
	bool detail;  /* record the detail facts below too (costs CPU;
		       * the exporter's /probe sets it) */
	/* MAY be set by whoever runs the check (the exporter's /probe sets
	 * it to the module's allow list); NULL: no judge. hop_ctx is not
	 * owned by the check. */
	vd_hop_judge_fn *hop_judge;
	void *hop_ctx;
};

/* Frees a check and everything it owns; NULL does nothing. */
void vd_check_free(struct vd_check *chk);
/* True if name equals the check's name or one of its tags. */
bool vd_check_matches(const struct vd_check *chk, const char *name_or_tag);

struct vd_prober;
struct vd_attempt;

/* Which key of a check names its target, for whoever fills it from
 * outside (the exporter's /probe). */
enum vd_target_kind {
	VD_TARGET_NONE = 0, /* none that /probe can fill (files, exec, DSNs) */
	VD_TARGET_URL,	    /* "url": http(s)://host[:port]/path */
	VD_TARGET_HOST,	    /* "host" and "port" */
};

/* One key of a check type's own (besides the keys every check has). */
struct vd_check_key {
	const char *name;
	unsigned flags; /* VD_KEY_* */
};

/* A check of the type must have it, written in the check or taken from
 * the suite's "defaults" (the loader's parse refuses a check without it). */
#define VD_KEY_REQUIRED 0x1
/* /probe fills it from its target (the module's template must not). */
#define VD_KEY_TARGET 0x2
/* Taken only to be refused with a reason better than "unknown key" (a
 * redis check's "tls": Debian's hiredis has no TLS); never valid, so the
 * schema leaves it out. */
#define VD_KEY_REFUSED 0x4

/* The keys every check has (name, type, stage, ..., every), NULL-
 * terminated; "tls" is every VD_TYPE_TLS type's too, "max_body" a key of
 * the types that read a peer's bytes or a file (their tables list it). */
extern const char *const vd_check_common_keys[];

/*
 * A check type. One file under probe/checks/ exports one of these; the
 * registry in probe/checks/registry.c lists them all. Everything about a
 * type lives here: the loader, `validate`, the exporter and the schema
 * cross-check (tests/unit/check_schema.c) read these facts and keep no
 * lists of their own.
 */
struct vd_check_type {
	const char *name;
	/*
	 * parse: reads the type's own keys from cfg (the check's object, with
	 * defaults merged in). MUST take every key it understands through
	 * the vd_cfg_* getters so that unknown keys can be refused by the
	 * caller; MUST set chk->conf and SHOULD set chk->target (masked).
	 * Returns 0, or VD_ERR_CONFIG after vd_cfg_error().
	 */
	int (*parse)(struct vd_check *chk, struct vd_cfg *cfg);
	/*
	 * start: begins one attempt. MUST NOT block the loop. MAY call
	 * vd_attempt_finish() before returning. Per-attempt state goes in
	 * att->data. The engine owns the deadline; start MUST NOT rely on
	 * the library's own timeouts to end the attempt.
	 */
	void (*start)(struct vd_attempt *att);
	/*
	 * cancel: MUST stop every watcher and release everything the attempt
	 * owns (att->data). Called exactly once per started attempt, after
	 * it finished or when its deadline expired (att->timed_out), and
	 * never from inside one of the attempt's library callbacks.
	 */
	void (*cancel)(struct vd_attempt *att);
	/* free: frees chk->conf; MUST accept NULL. */
	void (*free)(void *conf);
	/*
	 * timeout_detail: MAY be NULL. Called when the deadline fires, before
	 * the attempt finishes as a timeout, to say where it stood: writes a
	 * short phrase ("waiting for the response", "process group killed")
	 * into buf (len bytes), or leaves buf empty. MUST NOT finish or
	 * release anything.
	 */
	void (*timeout_detail)(struct vd_attempt *att, char *buf, size_t len);
	unsigned flags;
	/* target: the key /probe fills with its target; NONE (the default)
	 * keeps the type out of /probe modules. The key itself is the one
	 * flagged VD_KEY_TARGET in keys. */
	enum vd_target_kind target;
	/*
	 * keys: the type's own keys, ending with {NULL}. The loader refuses
	 * any other key a check writes ("unknown key"), after parse ran;
	 * parse MUST take no key that is not listed. Defaults and the
	 * timeout of every type are the common keys' (suites/suite.c).
	 */
	const struct vd_check_key *keys;
};

/* The key of t flagged VD_KEY_TARGET, or NULL. */
const char *vd_check_type_target_key(const struct vd_check_type *t);
/* True when key is one of the common keys or one of t's own (any key,
 * when t has no key table). */
bool vd_check_type_has_key(const struct vd_check_type *t, const char *key);

#define VD_TYPE_TLS 0x1 /* accepts the "tls" object */

/*
 * True if an attempt that ended with res is worth another one under chk's
 * retry_on. By default only what can heal is: timeout, dns, refused,
 * connect, protocol, unavailable, auth, value (a command, query or reply
 * not ready yet), a status 5xx (or a status failure without an HTTP
 * code) and a TLS handshake that broke before a certificate was judged
 * (an error of kind tls without a tls_verify_error fact); a certificate
 * that does not verify or fails the tls check's expectations, a 4xx, a
 * body, header, redirect or policy finding are final.
 */
bool vd_retry_wanted(const struct vd_check *chk, const struct vd_result *res);
/* Sets chk's retry_on from a name: a reason kind ("timeout", ...), an
 * HTTP status class ("4xx", "5xx"), "handshake" (see above), "default"
 * (what can heal) or "any". Returns false for an unknown name. */
bool vd_retry_on_add(struct vd_check *chk, const char *name);

/* Returns the registered type called name, or NULL. */
const struct vd_check_type *vd_check_type_find(const char *name);
/* NULL-terminated list of every registered type. */
extern const struct vd_check_type *const vd_check_types[];

/* One attempt of one check; what a check type sees while it runs. */
struct vd_attempt {
	struct ev_loop *loop;
	struct vd_prober *prober;
	const struct vd_check *check;
	struct vd_result *result; /* the type may set timings and facts */
	void *data;		  /* the type's state, freed by cancel */
	double start;		  /* ev_now() at start */
	/* MAY be set by the type: prepended to every reason the attempt
	 * finishes with (a flow's "step login: "); not owned, and must stay
	 * valid until the attempt finishes. */
	const char *reason_prefix;
	bool finished;
	bool timed_out;
};

/*
 * Ends an attempt with a verdict and a one-line reason (printf format,
 * masked for secrets). A second call is a no-op. Safe from inside library
 * callbacks: cancel() runs later, from the loop.
 */
void vd_attempt_finish(struct vd_attempt *att, enum vd_status st,
		       enum vd_reason kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Remaining seconds before the attempt's deadline (>= 0). */
double vd_attempt_remaining(const struct vd_attempt *att);

struct vd_prober_opts {
	unsigned concurrency; /* attempts in flight at most; 0: default */
};

#define VD_DEFAULT_CONCURRENCY 256

/* Returns a new prober on loop; never NULL (aborts on OOM). */
struct vd_prober *vd_prober_new(struct ev_loop *loop,
				const struct vd_prober_opts *opts);
/* Cancels every probe in flight (no callbacks) and frees; NULL is a no-op. */
void vd_prober_free(struct vd_prober *p);
struct ev_loop *vd_prober_loop(const struct vd_prober *p);
/* Attempts currently in flight. */
unsigned vd_prober_inflight(const struct vd_prober *p);
/* (File descriptors: the first prober raises the soft RLIMIT_NOFILE to
 * the hard limit; attempts in flight, across every prober, stay within
 * it and the rest wait in their prober's queue. engine.c) */

struct vd_probe;

/*
 * Called once when a check has its final result (after retries). res is
 * owned by the engine and valid only during the call: copy what you keep.
 */
typedef void vd_probe_cb(const struct vd_check *chk,
			 const struct vd_result *res, void *udata);

/*
 * Runs chk (with its retries) and calls cb once. The check must outlive the
 * probe. Returns a handle valid until cb returns or vd_probe_cancel().
 */
struct vd_probe *vd_probe_start(struct vd_prober *p, const struct vd_check *chk,
				vd_probe_cb *cb, void *udata);
/* Stops a probe; its callback is not called. */
void vd_probe_cancel(struct vd_probe *pr);
/*
 * Called when an attempt did not pass and another follows in next_in
 * seconds (attempt is the number of the one that ended, from 1). res is
 * the attempt's result, valid only during the call.
 */
typedef void vd_probe_retry_cb(const struct vd_check *chk,
			       const struct vd_result *res, int attempt,
			       double next_in, void *udata);
/* Sets (or clears, with NULL) pr's retry observer; udata is the probe's. */
void vd_probe_on_retry(struct vd_probe *pr, vd_probe_retry_cb *cb);

/* A run of many checks, stage by stage. */
struct vd_run;

struct vd_run_summary {
	const struct vd_check *const *checks;
	struct vd_result *results; /* results[i] belongs to checks[i] */
	size_t n;
	double started;	 /* unix time */
	double duration; /* seconds */
	bool passed;	 /* every critical check passed */
};

typedef void vd_run_cb(const struct vd_run_summary *sum, void *udata);

/* What a run tells as it goes, for progress views. */
enum vd_run_event_kind {
	VD_RUN_STAGE,	/* a stage starts: stage, nchecks */
	VD_RUN_STARTED, /* a check's first attempt is queued: chk */
	VD_RUN_RETRY,	/* an attempt failed, another follows: chk, res,
			   attempt, next_in */
	VD_RUN_DONE,	/* a check has its final result (or was skipped):
			   chk, res */
};

struct vd_run_event {
	enum vd_run_event_kind kind;
	const char *stage;
	size_t nchecks;		     /* VD_RUN_STAGE */
	const struct vd_check *chk;  /* the others */
	const struct vd_result *res; /* RETRY, DONE; valid during the call */
	int attempt;		     /* RETRY: the attempt that ended, from 1 */
	double next_in;		     /* RETRY: seconds to the next attempt */
};

/* Called for each event of a run (may be NULL). MUST NOT free the run. */
typedef void vd_run_progress_cb(const struct vd_run_event *ev, void *udata);

/*
 * Runs checks[0..n) stage by stage (by stage_index): a stage starts when
 * the one before it is done; when a critical check of a stage did not
 * pass, the later stages are skipped. cb is called once, from the loop;
 * the summary's results stay valid until vd_run_free(run).
 */
struct vd_run *vd_run_start(struct vd_prober *p,
			    const struct vd_check *const *checks, size_t n,
			    vd_run_cb *cb, vd_run_progress_cb *progress,
			    void *udata);
/* Frees a run (cancelling what is in flight). NULL is a no-op. */
void vd_run_free(struct vd_run *run);

/* --- one outbound HTTP request outside a suite (probe/fetch.c) --- */

/*
 * What a request asks. Strings are copied by vd_fetch_start() (tls is
 * referenced: it must outlive the fetch); header
 * lines that name credentials never reach an output, and every copy is
 * wiped when the fetch is freed.
 */
struct vd_fetch_opts {
	const char *url;	/* http:// or https:// */
	const char *method;	/* NULL: GET; "HEAD" reads no body */
	char *const *hdr_names; /* request headers */
	char *const *hdr_values;
	size_t nhdrs;
	const char *body; /* NULL: none */
	size_t body_len;
	const char *userpwd;	       /* "user:password" (basic) or NULL */
	const struct vd_tls_opts *tls; /* NULL: verify with the default store */
	double timeout;		       /* seconds for the whole request */
	size_t max_body; /* bytes of body kept; more stops the read */
};

/* What came back; valid while the fetch lives. */
struct vd_fetch_resp {
	long status;	   /* 0: no answer */
	const char *error; /* NULL when a response arrived, else one line
			    * (masked): "connection refused", "timeout
			    * after 5s (connecting)" */
	const char *body;  /* NUL-terminated, at most max_body bytes */
	size_t body_len;
	bool truncated; /* max_body reached; the read stopped there */
};

struct vd_fetch;

/* Called once, from the loop, when the request has its answer. MUST NOT
 * free the fetch (free it once cb has returned). */
typedef void vd_fetch_cb(struct vd_fetch *f, const struct vd_fetch_resp *resp,
			 void *udata);

/*
 * Sends one request on p with the checks' client (probe/http_req.c): its
 * own connection, the name resolved off the loop and judged by the
 * address policy, no redirects followed, no proxy, the body capped while
 * it is read, the TLS options applied as for a check, the deadline
 * enforced by the engine. Never NULL; cb is never called from inside
 * vd_fetch_start().
 */
struct vd_fetch *vd_fetch_start(struct vd_prober *p,
				const struct vd_fetch_opts *opts,
				vd_fetch_cb *cb, void *udata);
/* The last value of response header name (case-insensitive), or NULL. */
const char *vd_fetch_header(const struct vd_fetch *f, const char *name);
/* Stops a request still in flight (cb is not called) and frees it,
 * wiping its copies of headers, credentials, URL and body. NULL: no-op. */
void vd_fetch_free(struct vd_fetch *f);

/* Seconds since the epoch, as a double. */
double vd_now_unix(void);

#endif
