/*
 * dep_int.h - what the deployer shares only with itself: its parsed
 * configuration, the run-time (the caller's loop, the prober, the one
 * wait, HTTP on the checks' client), records, the state directory, hooks,
 * the gate, the registry pre-flight, notifiers and the report. Never included
 * from outside deployer/; includes only public headers of the prober and the
 * suite loader (never probe_int.h).
 */
#ifndef VD_DEP_INT_H
#define VD_DEP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>
#include <ev.h>

#include "../lib/cfg.h"
#include "../lib/exit.h"
#include "../probe/probe.h"
#include "../lib/util.h"
#include "../suites/suite.h"
#include "deployer.h"

/* --- configuration (config.c) --------------------------------------- */

struct vd_dep_hook_conf {
	char *name;  /* "deploy", "promote", "rollback" */
	char **argv; /* may hold ${VERSION} & co, filled in at run */
	size_t argc;
	char **env_names; /* extra environment for the child */
	char **env_values;
	size_t nenv;
	char *cwd;	   /* NULL: verdict's own */
	double timeout;	   /* seconds the hook may run */
	double kill_grace; /* seconds between SIGTERM and SIGKILL */
	size_t max_output; /* bytes of output kept in the record */
};

struct vd_dep_registry_conf {
	char *url;     /* base URL, no trailing '/': "https://ghcr.io" */
	char **images; /* repository names: "owner/app" */
	size_t nimages;
	char *username; /* NULL: anonymous */
	char *password; /* from the environment (password_env); secret */
	double timeout; /* seconds per request */
	struct vd_tls_opts tls;
};

/* Where a gate suite comes from: kept so that the suite can be loaded
 * again per deployment phase with ${VERSION} & co filled in. */
struct vd_dep_suite_src {
	char *name;  /* in messages: the file, or "deploy.json: health" */
	char *file;  /* the suite file, or NULL (inline) */
	char *text;  /* the suite document as read */
	char **only; /* names, tags or stages to keep (none: all) */
	size_t nonly;
};

struct vd_notifier_type;

struct vd_dep_notifier {
	const struct vd_notifier_type *type;
	char *key; /* unique in the config: "slack", "webhook#3" */
	void *conf;
};

struct vd_dep_config {
	char *path; /* as given */
	char *environment;
	char *state_dir; /* absolute or relative to the working dir */
	struct vd_dep_registry_conf *registry; /* NULL: no pre-flight */
	struct vd_dep_hook_conf *deploy;       /* required */
	struct vd_dep_hook_conf *promote;      /* NULL: none */
	struct vd_dep_hook_conf *rollback;     /* NULL: the deploy hook */
	struct vd_suite *health; /* required; loaded with sample values */
	struct vd_suite *smoke;	 /* NULL: none */
	struct vd_dep_suite_src *health_src; /* what a phase loads */
	struct vd_dep_suite_src *smoke_src;
	bool rollback_on_inconclusive;
	struct vd_dep_notifier *notifiers;
	size_t nnotifiers;
	long notify_retries;	/* extra attempts per request */
	double notify_interval; /* seconds before the first retry; doubles */
	double notify_timeout;	/* seconds per request */
	char *environment_url;	/* NULL: none */
	char *log_url;		/* NULL: from GITHUB_* variables, or none */
};

/*
 * Loads and validates the deploy config at path (JSON with comments,
 * ${VAR} from the environment except the hook placeholders). Returns 0
 * and sets *out, or VD_ERR_CONFIG / VD_ERR_IO with a message naming the
 * file and the place in err.
 */
int vd_dep_config_load(const char *path, struct vd_dep_config **out, char *err,
		       size_t errlen);
void vd_dep_config_free(struct vd_dep_config *c);
/* deploy --check: every hook program must be found as execvpe would
 * (PATH lookup, or relative to the hook's cwd). Returns 0, or
 * VD_ERR_CONFIG with the config place ("hooks.deploy.argv[0]") in err. */
int vd_dep_config_check_hooks(const struct vd_dep_config *cfg, char *err,
			      size_t errlen);
/* Reads only the environment and the state directory (for status and
 * history, which need no tokens). Returns 0 or VD_ERR_* with err. */
int vd_dep_config_peek(const char *path, char **env, char **state_dir,
		       char *err, size_t errlen);

/* s with newlines, tabs and other control bytes escaped (\n, \x1b),
 * and \ and " too when quoted (s goes between quotes), cut after max
 * bytes when max > 0: refused input echoed on one line, so that it
 * cannot start a line of its own in a CI log ("::error::"). */
char *vd_dep_escape(const char *s, size_t max, bool quoted);

/* --- run-time: the caller's loop, the prober, waiting (runtime.c) --- */

struct vd_dep_rt {
	struct ev_loop *loop; /* the caller's: the deploy command's top */
	int stop_signal;      /* the signal that asked us to stop, or 0; set
				 by whoever owns the signals */
	bool finishing;	      /* the result is recorded: HTTP goes on
				 after a stop signal (notifications) */
	struct vd_prober *prober;
	bool quiet; /* no progress lines on stderr */
};

/* Runs on loop (owned by the caller, which also owns the stop signals
 * and sets stop_signal); creates the prober. */
void vd_dep_rt_init(struct vd_dep_rt *rt, struct ev_loop *loop);
void vd_dep_rt_cleanup(struct vd_dep_rt *rt);
/* True when a stop signal arrived and the result is not yet recorded. */
bool vd_dep_stopping(const struct vd_dep_rt *rt);
/*
 * The deployer's one wait: runs the caller's loop until a callback sets
 * *done, or a stop signal arrives (vd_dep_stopping). Returns 0, or
 * VD_ERR_SYSTEM when stopped first (the operation is still in flight:
 * the caller cancels it).
 */
int vd_dep_await(struct vd_dep_rt *rt, const bool *done);
/* vd_dep_await() whatever the stop signals, for what ends by itself in
 * bounded time once told to stop (a hook being terminated: its grace). */
void vd_dep_await_end(struct vd_dep_rt *rt, const bool *done);
/* Progress for people, on stderr, masked. */
void vd_dep_say(const struct vd_dep_rt *rt, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One HTTP request of the deployer, on the checks' client (probe/fetch.c). */
struct vd_dep_http {
	struct vd_fetch *f;
	struct vd_fetch_resp resp; /* valid while f lives, once done */
	bool done;		   /* false: stopped before the answer */
};

/* Sends o and waits for the answer (vd_dep_await). Returns 0, or
 * VD_ERR_SYSTEM when stopped first. Clear h with vd_dep_http_clear
 * either way. */
int vd_dep_fetch(struct vd_dep_rt *rt, const struct vd_fetch_opts *o,
		 struct vd_dep_http *h);
/* Frees the request (wiping its headers, credentials and body). */
void vd_dep_http_clear(struct vd_dep_http *h);
/* One line on why a request failed: "HTTP 503" or the client's reason
 * ("connection refused"), masked. */
char *vd_dep_http_why(const struct vd_dep_http *h);

/* --- the state directory (state.c) ----------------------------------- */

struct vd_dep_state {
	char *dir;
	char *env;
	int dir_fd;
	int lock_fd;	   /* -1: not held */
	int hist_fd;	   /* -1: not open */
	cJSON *state;	   /* the state document, never NULL once loaded */
	unsigned dir_mode; /* the directory's mode bits, as found */
	bool dir_owned;	   /* owned by our effective user */
};

/* Opens (creating 0700) the state directory; an existing one keeps its
 * mode. Returns 0 or VD_ERR_IO with a message in err. */
int vd_dep_state_open(struct vd_dep_state *st, const char *dir, const char *env,
		      char *err, size_t errlen);
/* 0 when the directory's mode lets verdict write there, else VD_ERR_IO
 * with why in err (it is never chmodded). */
int vd_dep_state_writable(struct vd_dep_state *st, char *err, size_t errlen);
/* Cuts a torn last history line (a crash mid-write); call with the lock
 * held. Returns the bytes dropped (0: none), or VD_ERR_IO with err. */
long vd_dep_history_repair(struct vd_dep_state *st, char *err, size_t errlen);
void vd_dep_state_close(struct vd_dep_state *st);
/*
 * Takes the environment's exclusive lock without waiting. Returns 0, 1
 * when another process holds it (its owner's details, as recorded, in
 * owner), or VD_ERR_IO.
 */
int vd_dep_lock(struct vd_dep_state *st, const cJSON *owner_info, char *owner,
		size_t ownerlen, char *err, size_t errlen);
/* True (and the pid) when some process holds the lock; never takes it. */
bool vd_dep_lock_held(struct vd_dep_state *st, pid_t *pid);
/* Reads the state file (or rebuilds known-good from history when the
 * file is missing). Returns 0 or VD_ERR_IO / VD_ERR_CONFIG with err. */
int vd_dep_state_load(struct vd_dep_state *st, char *err, size_t errlen);
/* Writes st->state: temp file, fsync, rename, fsync of the directory. */
int vd_dep_state_save(struct vd_dep_state *st, char *err, size_t errlen);
/* Appends one JSON line to the history and fsyncs it; "ts" is added
 * unless present. On failure (a full disk, a file size limit) the file
 * is cut back to where it was: nothing half-written stays. */
int vd_dep_history_append(struct vd_dep_state *st, cJSON *line, char *err,
			  size_t errlen);
/* Calls fn for every parseable history line, oldest first. Returns 0,
 * or VD_ERR_IO. A missing history is empty. */
int vd_dep_history_each(struct vd_dep_state *st,
			void (*fn)(const cJSON *line, void *udata),
			void *udata);

/* ISO 8601 UTC with milliseconds: "2025-11-26T04:15:00.123Z". */
void vd_dep_utc(double unix_time, char *buf, size_t len);
/* cJSON helpers: a string member or NULL (also when obj is NULL) / a
 * string member or dflt / a number or dflt. */
const char *vd_dep_jstr(const cJSON *obj, const char *key);
const char *vd_dep_jstr_or(const cJSON *obj, const char *key, const char *dflt);
double vd_dep_jnum(const cJSON *obj, const char *key, double dflt);
/* Sets (replacing) a member. val NULL sets JSON null. */
void vd_dep_jset_str(cJSON *obj, const char *key, const char *val);
void vd_dep_jset_num(cJSON *obj, const char *key, double val);
void vd_dep_jset(cJSON *obj, const char *key, cJSON *item);

/* --- hooks: child processes (hooks.c) -------------------------------- */

struct vd_dep_hook_vars {
	const char *version;
	const char *previous_version; /* "" when there is none */
	const char *deployment_id;
	const char *environment;
};

struct vd_dep_hook_result {
	bool ran;      /* the program started */
	int exit_code; /* -1 when killed or not started */
	int signal;    /* the signal that ended it, or 0 */
	bool timed_out;
	bool interrupted; /* a stop signal reached verdict meanwhile */
	double duration;  /* seconds */
	char *output;	  /* captured, capped, masked */
	bool output_truncated;
	char *error; /* why it could not start, or NULL */
	pid_t pid;
};

/* Fills ${VERSION}, ${PREVIOUS_VERSION}, ${DEPLOYMENT_ID}, ${ENVIRONMENT}. */
char *vd_dep_subst(const char *s, const struct vd_dep_hook_vars *v);
/*
 * Runs the hook to its end on the loop: own process group, stdin
 * /dev/null, stdout+stderr captured (echoed to stderr unless quiet), the
 * deadline kills the whole group (SIGTERM, then SIGKILL after the grace),
 * and every process left in the group is killed when the hook's main
 * process ends. on_start (may be NULL) is called with the child's pid
 * after fork and before exec (the child waits at a barrier), so that the
 * caller can record it before the hook does anything.
 */
void vd_dep_hook_run(struct vd_dep_rt *rt, const struct vd_dep_hook_conf *h,
		     const struct vd_dep_hook_vars *vars,
		     void (*on_start)(pid_t pid, void *udata), void *udata,
		     struct vd_dep_hook_result *res);
void vd_dep_hook_result_clear(struct vd_dep_hook_result *res);
/* "exit 0", "exit 3", "killed by signal 9", "timed out after 5s"... */
char *vd_dep_hook_why(const struct vd_dep_hook_result *res,
		      const struct vd_dep_hook_conf *h);
/* The start time of pid (clock ticks since boot, /proc/PID/stat field
 * 22), or 0 when it does not exist. */
unsigned long long vd_dep_proc_start(pid_t pid);

/* --- the gate (gate.c) ------------------------------------------------ */

enum vd_gate_verdict {
	VD_GATE_PASS,
	VD_GATE_FAIL,
	VD_GATE_INCONCLUSIVE,
	VD_GATE_INTERRUPTED,
};

struct vd_gate_suite_result {
	const struct vd_suite *suite;
	struct vd_run_summary sum; /* results copied; owned */
	bool ran;
};

/*
 * Loads a gate suite from its source with ${VERSION},
 * ${PREVIOUS_VERSION}, ${DEPLOYMENT_ID} and ${ENVIRONMENT} taken from v
 * (before the environment), keeping the checks "only" selects. Returns
 * 0 and *out (free with vd_suite_free), or VD_ERR_CONFIG with err.
 */
int vd_dep_suite_load(const struct vd_dep_suite_src *src,
		      const struct vd_dep_hook_vars *v, struct vd_suite **out,
		      char *err, size_t errlen);
void vd_dep_suite_src_free(struct vd_dep_suite_src *src);

/* Runs a whole suite on the prober; fills out (owned, clear it). */
enum vd_gate_verdict vd_gate_run_suite(struct vd_dep_rt *rt,
				       const struct vd_suite *suite,
				       const char *label,
				       struct vd_gate_suite_result *out);
void vd_gate_suite_result_clear(struct vd_gate_suite_result *r);
/* The first critical check that did not pass, as "name: reason", or NULL. */
char *vd_gate_why(const struct vd_gate_suite_result *r);
/* The suite result as the JSON report tree (probe/report.h). */
cJSON *vd_gate_json(const struct vd_gate_suite_result *r);
const char *vd_gate_verdict_name(enum vd_gate_verdict v);

/* --- the registry pre-flight (registry.c) ----------------------------- */

/*
 * Asks the registry whether every image of the config exists with tag
 * version (HEAD /v2/NAME/manifests/TAG, token or basic auth). Returns 0
 * when all exist, 1 when one is missing (why says which), -1 when the
 * registry could not answer (why says why), VD_ERR_SYSTEM when stopped.
 * details gets one object per image.
 */
int vd_dep_registry_check(struct vd_dep_rt *rt,
			  const struct vd_dep_registry_conf *rc,
			  const char *version, cJSON *details, char **why);

/* --- notifications (notify.c, notify_*.c) ----------------------------- */

/* An event of a deployment, as notifiers see it. */
struct vd_notify_event {
	const char *what;	   /* "started", "promoted", "rolled_back",
				      "rollback_failed", "inconclusive",
				      "refused", "interrupted" */
	const cJSON *dep;	   /* the deployment record (id, kind, version,
				      previous_version, environment, actor...) */
	const char *reason;	   /* one line, or NULL */
	int exit_code;		   /* final events; -1 for "started" */
	const char *data;	   /* what this notifier kept for this
				      deployment (GitHub: its deployment id) */
	const char *replaced_data; /* the same for the deployment replaced */
	const char *environment_url; /* may be NULL */
	const char *log_url;	     /* may be NULL */
};

/* A request a notifier wants sent; notify.c owns the sending. */
struct vd_notify_req {
	char *method; /* NULL: POST */
	char *url;
	char **headers; /* "Name: value" */
	size_t nheaders;
	char *body; /* JSON */
};

struct vd_notifier_type {
	const char *name;
	/*
	 * parse: reads the notifier's own keys (base URLs, chat ids, and the
	 * NAMES of environment variables holding tokens) through vd_cfg_*;
	 * MUST read tokens only from the environment and register them with
	 * vd_secret_add. Sets *conf. Returns 0 or VD_ERR_CONFIG.
	 */
	int (*parse)(struct vd_cfg *cfg, void **conf);
	/*
	 * build: fills req with request number step (0, 1, ...) of event ev.
	 * Returns 1 when filled, 0 when the event needs no request number
	 * step (it is done, or a needed datum such as GitHub's deployment id
	 * is missing). MUST NOT block; MUST NOT keep pointers into ev.
	 */
	int (*build)(const void *conf, const struct vd_notify_event *ev,
		     unsigned step, struct vd_notify_req *req);
	/*
	 * answer: MAY return a string to keep for this deployment (malloc'd;
	 * passed back as ev->data to later builds and recorded), from a 2xx
	 * answer of request step. NULL: nothing to keep. May be NULL.
	 */
	char *(*answer)(const void *conf, const struct vd_notify_event *ev,
			unsigned step, long status, const char *body);
	/* free: frees conf; MUST accept NULL. */
	void (*free)(void *conf);
};

extern const struct vd_notifier_type vd_notifier_telegram;
extern const struct vd_notifier_type vd_notifier_slack;
extern const struct vd_notifier_type vd_notifier_github;
extern const struct vd_notifier_type vd_notifier_webhook;
extern const struct vd_notifier_type *const vd_notifier_types[];
const struct vd_notifier_type *vd_notifier_find(const char *name);
void vd_notify_req_clear(struct vd_notify_req *r);
/* A short human line for an event: "staging: 1.3 promoted (was 1.2)". */
char *vd_notify_text(const struct vd_notify_event *ev);

/*
 * Parsing helpers the notifiers share (notify.c); each returns 0 or
 * VD_ERR_CONFIG with the error naming the key.
 * vd_notify_base_url: "base_url" into *base (dflt when absent), trailing
 * slashes removed; *base is set even on error (caller frees).
 * vd_notify_token: the token from the environment variable named by
 * "token_env" (default dflt_env) into *token, registered as a secret;
 * note follows the variable's name in the error ("", " (the token)").
 * vd_notify_http_url: url starts with http:// or https:// (error: "url").
 */
int vd_notify_base_url(struct vd_cfg *cfg, const char *dflt, char **base);
int vd_notify_token(struct vd_cfg *cfg, const char *dflt_env, const char *note,
		    char **token);
int vd_notify_http_url(struct vd_cfg *cfg, const char *url);
/* Sets req->url to url (taken over) and req->body to body printed; frees
 * body. */
void vd_notify_req_json(struct vd_notify_req *req, char *url, cJSON *body);

struct vd_dep_ctx;

/*
 * Delivers event what of the current deployment to every notifier, at
 * least once and never twice: each request is recorded "sending" before
 * and "sent"/"failed" after; requests already recorded sent (by this or
 * an interrupted earlier run) are skipped. A request that failed (after
 * its retries) goes to the outbox with the rest of its event, and later
 * events of that deployment and notifier wait behind it there. Failures
 * are reported, never fatal. Returns how many requests failed.
 */
int vd_notify_event_send(struct vd_dep_ctx *ctx, const char *what,
			 const char *reason, int exit_code);

/*
 * Sends again what the outbox of the state keeps: notifications that
 * failed in an earlier run (their event_id unchanged), oldest first;
 * a notifier that fails again keeps its entries, in order, for the next
 * run. Returns how many requests failed.
 */
int vd_notify_outbox_flush(struct vd_dep_ctx *ctx);

/* --- one deployment (deploy.c, records.c, ci.c, result.c, flow.c,
 *     recover.c) ----------------------------------------------------- */

struct vd_dep_ctx {
	struct vd_dep_config *cfg;
	struct vd_dep_rt rt;
	struct vd_dep_state st;
	cJSON *dep;	   /* the in-progress record (state.in_progress) */
	cJSON *notify_log; /* this deployment's notify history lines */
	cJSON *report;	   /* the deployment report being built */
	char err[1200];
};

/* --- records (records.c) ---------------------------------------------- */

/* Appends a history line for the current deployment (takes line).
 * Returns 0 or VD_ERR_IO with ctx->err. */
int vd_dep_record(struct vd_dep_ctx *ctx, const char *event, cJSON *line);
/* The same for deployment id (a notification of an earlier one; line
 * NULL: the id and event only). */
int vd_dep_record_for(struct vd_dep_ctx *ctx, const char *id, const char *event,
		      cJSON *line);
/*
 * Commits a record that tells the story (the deployment, a step, the
 * result): the state is written first, holding the line as
 * in_progress.pending, then the line goes to the history; the next lock
 * holder replays a pending line the history lacks. Takes line. Returns
 * 0 or VD_ERR_IO with ctx->err.
 */
int vd_dep_commit(struct vd_dep_ctx *ctx, const char *event, cJSON *line);
/* Records step name in the state and history before its side effect.
 * Returns 0 or VD_ERR_IO. */
int vd_dep_step(struct vd_dep_ctx *ctx, const char *step, cJSON *extra);
/* The exit code of a result name ("promoted": 0, ...). */
int vd_dep_result_exit(const char *result);
/* Member key of the state if it is an object, else NULL. */
cJSON *vd_dep_state_obj(cJSON *state, const char *key);
/* Sets the state's current version (status "deploying", "known_good",
 * "unknown", ...) / known-good version, for the current deployment. */
void vd_dep_set_current(struct vd_dep_ctx *ctx, const char *version,
			const char *status);
void vd_dep_set_known_good(struct vd_dep_ctx *ctx, const char *version);

/* --- who and where (ci.c) ---------------------------------------------- */

/* A deployment id: "20251126T041500Z-a1b2c3" into buf. */
void vd_dep_make_id(char *buf, size_t len);
/* GITHUB_ACTOR, USER or LOGNAME, else the login name, else "uid N". */
const char *vd_dep_actor(void);
/* The CI metadata (GITHUB_* and CI, masked, lower-case keys). */
cJSON *vd_dep_ci_info(void);
/* This host's name, or "?". */
const char *vd_dep_hostname(void);

/* --- the result (result.c), the flows (flow.c), recovery (recover.c) -- */

/*
 * Records the result (state, then history), notifies it (a stop signal
 * no longer cuts HTTP short) and closes the deployment. Returns the exit
 * code, or VD_ERR_IO with ctx->err.
 */
int vd_dep_finish(struct vd_dep_ctx *ctx, const char *result,
		  const char *reason);
/* The flows of `deploy` and `rollback`: return the result name and set
 * *reason (NULL for success), or NULL when a record could not be
 * written (ctx->err says why). */
const char *vd_dep_deploy_flow(struct vd_dep_ctx *ctx, char **reason);
const char *vd_dep_rollback_flow(struct vd_dep_ctx *ctx, char **reason);
/* Finishes a deployment the state holds in progress (its owner died):
 * kills its orphaned hook, records it interrupted, sends what it owed.
 * Adds what it did to recovered. Returns 0, or VD_ERR_IO. */
int vd_dep_recover(struct vd_dep_ctx *ctx, cJSON *recovered);
/* Closes as interrupted every deployment the history opened and never
 * closed that the state does not know. Returns 0 or VD_ERR_IO. */
int vd_dep_close_orphans(struct vd_dep_ctx *ctx, cJSON *recovered);

/*
 * Runs `deploy` (rollback false) or `rollback` to its end on app->loop
 * (the default loop: hooks use ev_child); while it runs, app->on_signal
 * turns SIGINT, SIGTERM and SIGHUP into a clean stop. Returns the exit
 * code. version may be NULL for a rollback (the known-good one).
 */
int vd_dep_run_deploy(struct vd_app *app, const char *config,
		      const char *version, const char *format,
		      const char *report, bool quiet, bool rollback);

/* --- the report (report.c) -------------------------------------------- */

/* Writes the JSON report to path (if not NULL), the text or JSON report
 * to stdout, and the Markdown summary to $GITHUB_STEP_SUMMARY when set.
 * Returns 0 or -1 when a write failed (said on stderr). */
int vd_dep_report_emit(const cJSON *report, const char *format,
		       const char *path);
/* Markdown of a deployment report into f. */
void vd_dep_report_markdown(FILE *f, const cJSON *report);

#endif
