/*
 * exec.c - the "exec" check: runs a command (argv, never a shell unless the
 * user writes one) in its own process group, reads its output on the loop
 * into a capped buffer, and judges the exit code and the output. At the
 * deadline, or when the check is cancelled, the whole process group gets
 * SIGTERM then SIGKILL and the command is reaped: nothing is left behind.
 * Linux only (pidfd); knows nothing of suites, reports or exporters.
 *
 * How children are watched. libev's default loop installs a SIGCHLD
 * handler that reaps every child of the process with waitpid(-1), so on the
 * default loop (where verdict runs the prober) the only way to learn a
 * child's exit status is an ev_child watcher. On any other loop an ev_child
 * is not allowed; there the child is watched through a pidfd (Linux 5.3+)
 * on an ev_io and reaped with waitid(P_PIDFD) (5.4+), which needs no signal
 * at all - as long as the default loop is not running in another thread of
 * the same process (its SIGCHLD handler would steal the status).
 */
/*
 * exec.c - the "exec" check: runs a command (argv, never a shell unless the
 * user writes one) under the supervisor (lib/proc.h: its own process group,
 * output read on the loop into a capped buffer) and judges the exit code
 * and the output. When the attempt ends, at its deadline or after the
 * judgement, the whole process group gets SIGTERM then SIGKILL and the
 * command is reaped: nothing is left behind. Knows nothing of suites,
 * reports or exporters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/cfg.h"
#include "../../lib/proc.h"
#include "../probe_int.h"
#include "../../lib/util.h"
#include "checks.h"

#define DEFAULT_MAX_OUTPUT ((size_t)64 * 1024)
#define KILL_GRACE	   1.0 /* seconds between SIGTERM and SIGKILL */
#define TAIL		   512 /* bytes of stdout/stderr kept for the reason */
#define PROCS_KEY	   "exec.procs"

struct exec_conf {
	char **argv; /* NULL-terminated */
	size_t argc;
	char *cwd;
	char **env_keys, **env_vals;
	size_t nenv;
	size_t max_output; /* bytes kept; more is read and dropped */
	int *exit_codes;   /* accepted exit codes; default {0} */
	size_t nexit;
	char **contains;
	size_t ncontains;
	struct vd_regex *regex; /* output_regex, or NULL */
};

struct tail {
	char b[TAIL];
	size_t len;
};

struct exec_run {
	struct vd_attempt *att;
	struct vd_proc *proc; /* freed (and its group ended) by cancel */
	struct tail tails[2];
	bool judging;		  /* exec_judge() ran: later calls do nothing */
	struct vd_search *search; /* output_regex, off the loop */
	int code;		  /* exit code, while the search runs */
	size_t out_len;		  /* bytes of output kept */
	bool truncated;		  /* output cut at max_output */
};

/* The prober's supervisor: created with the first exec attempt, and its
 * children killed and reaped when the prober is freed. */
static void *
procs_create(struct vd_prober *p)
{
	return vd_procs_new(vd_prober_loop(p));
}

static void
procs_destroy(void *state)
{
	vd_procs_free(state);
}

/* --- one attempt --- */

static void
tail_add(struct tail *t, const char *p, size_t n)
{
	if (n >= TAIL) {
		memcpy(t->b, p + n - TAIL, TAIL);
		t->len = TAIL;
		return;
	}
	if (t->len + n > TAIL) {
		size_t drop = t->len + n - TAIL;
		memmove(t->b, t->b + drop, t->len - drop);
		t->len -= drop;
	}
	memcpy(t->b + t->len, p, n);
	t->len += n;
}

/* The last non-empty line of a tail, control characters blanked. */
static void
tail_last_line(const struct tail *t, char *out, size_t outlen)
{
	size_t end = t->len, start, i, o = 0;

	while (end > 0 && (t->b[end - 1] == '\n' || t->b[end - 1] == '\r' ||
			   t->b[end - 1] == ' ' || t->b[end - 1] == '\t'))
		end--;
	for (start = end; start > 0 && t->b[start - 1] != '\n'; start--)
		;
	for (i = start; i < end && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)t->b[i];
		out[o++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	out[o] = '\0';
	if (i < end && o >= 3)
		memcpy(out + o - 3, "...", 3); /* cut: say so */
}

static void
last_line(const struct exec_run *run, char *out, size_t outlen)
{
	tail_last_line(&run->tails[1], out, outlen);
	if (*out == '\0')
		tail_last_line(&run->tails[0], out, outlen);
}

static bool
exit_ok(const struct exec_conf *ec, int code)
{
	size_t i;
	for (i = 0; i < ec->nexit; i++)
		if (ec->exit_codes[i] == code)
			return true;
	return false;
}

static void
exit_wanted(const struct exec_conf *ec, char *out, size_t len)
{
	size_t i, off = 0;
	out[0] = '\0';
	for (i = 0; i < ec->nexit && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%d",
					i ? (i + 1 == ec->nexit ? " or " : ", ")
					  : "",
					ec->exit_codes[i]);
}

/* The end of exec_judge(), once output_regex has been searched. */
static void
output_searched(enum vd_match m, const char *limit, void *udata)
{
	struct exec_run *run = udata;
	struct vd_attempt *att = run->att;
	const struct exec_conf *ec = att->check->conf;
	const char *trunc = run->truncated ? " (output truncated at "
					     "max_output)"
					   : "";

	if (m == VD_MATCH_LIMIT) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_LIMIT,
				  "output_regex /%.80s/: the search hit the "
				  "%s (%zu bytes of output)",
				  vd_regex_source(ec->regex), limit,
				  run->out_len);
		return;
	}
	if (m == VD_MATCH_NO) {
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_BODY,
				  "output does not match /%.80s/%s",
				  vd_regex_source(ec->regex), trunc);
		return;
	}
	vd_attempt_finish(att, VD_STATUS_PASS, VD_REASON_NONE, "exit %d%s",
			  run->code,
			  run->truncated ? ", output truncated at "
					   "max_output"
					 : "");
}

/* Everything is in: the command exited and its output ended (or stayed
 * open past the supervisor's drain wait). */
static void
exec_judge(struct exec_run *run, const struct vd_proc_result *res)
{
	struct vd_attempt *att = run->att;
	const struct exec_conf *ec = att->check->conf;
	const struct vd_buf *out = res->output;
	const char *trunc = out->truncated ? " (output truncated at "
					     "max_output)"
					   : "";
	char line[200], want[128];
	size_t i;

	if (run->judging || att->finished)
		return;
	run->judging = true;
	run->out_len = out->len;
	run->truncated = out->truncated;
	vd_result_fact_num(att->result, "output_bytes",
			   (double)res->output_bytes);
	vd_result_fact_bool(att->result, "output_truncated", out->truncated);
	if (res->output_open)
		vd_result_fact_bool(att->result, "output_open_after_exit",
				    true);
	last_line(run, line, sizeof(line));
	if (res->status_lost) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "exit status lost: another SIGCHLD handler "
				  "reaped the command");
		return;
	}
	if (res->signal) {
		const char *name = sigabbrev_np(res->signal);
		vd_result_fact_num(att->result, "signal", res->signal);
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_VALUE,
				  "killed by signal %d (SIG%s)%s%s",
				  res->signal, name ? name : "?",
				  *line ? ": " : "", line);
		return;
	}
	vd_result_fact_num(att->result, "exit_code", res->exit_code);
	if (!exit_ok(ec, res->exit_code)) {
		exit_wanted(ec, want, sizeof(want));
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_VALUE,
				  "exit %d, expected %s%s%s", res->exit_code,
				  want, *line ? ": " : "", line);
		return;
	}
	for (i = 0; i < ec->ncontains; i++) {
		if (memmem(out->data, out->len, ec->contains[i],
			   strlen(ec->contains[i])) == NULL) {
			vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_BODY,
					  "output does not contain \"%.80s\"%s",
					  ec->contains[i], trunc);
			return;
		}
	}
	run->code = res->exit_code;
	if (ec->regex != NULL) {
		/* the search takes a copy of the output */
		run->search = vd_search_start(att, ec->regex,
					      out->data ? out->data : "",
					      out->len, output_searched, run);
		return;
	}
	output_searched(VD_MATCH_YES, NULL, run);
}

static void
exec_output(void *udata, enum vd_proc_stream s, const char *p, size_t n)
{
	struct exec_run *run = udata;
	tail_add(&run->tails[s == VD_PROC_STDERR ? 1 : 0], p, n);
}

static void
exec_done(void *udata, const struct vd_proc_result *res)
{
	exec_judge(udata, res);
}

/* Finishes the attempt with the reason a failed spawn deserves. */
static void
spawn_failed(struct vd_attempt *att, const struct exec_conf *ec, int err)
{
	const char *cmd = ec->argv[0];
	if ((err == ENOENT || err == EACCES || err == ENOTDIR) && ec->cwd &&
	    access(ec->cwd, X_OK) < 0) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "cwd %s: %s", ec->cwd, strerror(errno));
	} else if (err == ENOENT && strchr(cmd, '/') == NULL) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "command not found: %s", cmd);
	} else if (err == ENOENT) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "no such file: %s", cmd);
	} else if (err == EACCES) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "permission denied: %s", cmd);
	} else {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "cannot run %s: %s", cmd, strerror(err));
	}
}

static void
exec_start(struct vd_attempt *att)
{
	const struct exec_conf *ec = att->check->conf;
	struct exec_run *run = vd_xcalloc(1, sizeof(*run));
	struct vd_proc_spec spec;
	struct vd_env env;
	size_t i;
	int r;

	att->data = run;
	run->att = att;
	vd_env_init(&env, true);
	for (i = 0; i < ec->nenv; i++)
		vd_env_set(&env, ec->env_keys[i], ec->env_vals[i]);
	memset(&spec, 0, sizeof(spec));
	spec.argv = ec->argv;
	spec.envp = env.v;
	spec.cwd = ec->cwd;
	spec.max_output = ec->max_output;
	spec.grace = KILL_GRACE;
	spec.on_output = exec_output;
	spec.on_done = exec_done;
	spec.udata = run;
	r = vd_proc_spawn(vd_prober_shared(att->prober, PROCS_KEY, procs_create,
					   procs_destroy),
			  &spec, &run->proc);
	vd_env_free(&env);
	if (r != 0)
		spawn_failed(att, ec, r);
}

static void
exec_cancel(struct vd_attempt *att)
{
	struct exec_run *run = att->data;

	if (run == NULL)
		return;
	vd_search_free(run->search);
	if (run->proc) {
		vd_proc_free(run->proc);
		if (att->timed_out)
			vd_result_fact_bool(att->result, "killed", true);
	}
	free(run);
	att->data = NULL;
}

/* Says what becomes of the command at its deadline, and what it said
 * last. */
static void
exec_timeout_detail(struct vd_attempt *att, char *buf, size_t len)
{
	struct exec_run *run = att->data;
	char line[200];

	if (run == NULL || run->proc == NULL)
		return;
	last_line(run, line, sizeof(line));
	snprintf(buf, len, "%s%s%s",
		 !vd_proc_exited(run->proc)
			 ? "process group killed"
			 : "output held open; process group killed",
		 *line ? "; last output: " : "", line);
}
static void
exec_free(void *p)
{
	struct exec_conf *ec = p;
	size_t i;
	if (ec == NULL)
		return;
	vd_strlist_free(ec->argv, ec->argc);
	free(ec->cwd);
	for (i = 0; i < ec->nenv; i++) {
		free(ec->env_keys[i]);
		vd_free_secret(ec->env_vals[i]);
	}
	free(ec->env_keys);
	free(ec->env_vals);
	free(ec->exit_codes);
	vd_strlist_free(ec->contains, ec->ncontains);
	vd_regex_free(ec->regex);
	free(ec);
}

static int
parse_exit_code(struct vd_cfg *c, struct exec_conf *ec)
{
	const cJSON *it = vd_cfg_take(c, "exit_code"), *el;
	size_t n, i = 0;

	if (it == NULL)
		return 0;
	if (cJSON_IsNumber(it))
		n = 1;
	else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) > 0)
		n = (size_t)cJSON_GetArraySize(it);
	else
		return vd_cfg_error(c, "exit_code",
				    "expected an integer (0-255) or a list of "
				    "them");
	free(ec->exit_codes);
	ec->exit_codes = vd_xcalloc(n, sizeof(int));
	ec->nexit = n;
	for (el = cJSON_IsArray(it) ? it->child : it; el && i < n;
	     el = el->next, i++) {
		if (!cJSON_IsNumber(el) || el->valuedouble < 0 ||
		    el->valuedouble > 255 ||
		    el->valuedouble != (double)(int)el->valuedouble)
			return vd_cfg_error(c, "exit_code",
					    "expected an integer (0-255) or a "
					    "list of them");
		ec->exit_codes[i] = (int)el->valuedouble;
	}
	return 0;
}

static int
parse_expect(struct vd_cfg *parent, struct exec_conf *ec)
{
	struct vd_cfg c;
	char *src = NULL;
	int r = vd_cfg_child(parent, "expect", &c);

	if (r <= 0)
		return r;
	r = parse_exit_code(&c, ec);
	if (!r)
		r = vd_cfg_strlist(&c, "output_contains", &ec->contains,
				   &ec->ncontains);
	if (!r)
		r = vd_cfg_str(&c, "output_regex", false, &src);
	if (!r && src) {
		char msg[200];
		ec->regex =
			vd_regex_new(src, VD_REGEX_MULTILINE, msg, sizeof(msg));
		if (ec->regex == NULL)
			r = vd_cfg_error(&c, "output_regex",
					 "invalid regular expression: %s", msg);
	}
	free(src);
	if (!r)
		r = vd_cfg_finish(&c);
	vd_cfg_release(&c);
	return r;
}

static int
exec_parse(struct vd_check *chk, struct vd_cfg *c)
{
	struct exec_conf *ec = vd_xcalloc(1, sizeof(*ec));
	char **argv = NULL;
	size_t i, n = 0;
	struct vd_buf t;
	int r;

	chk->conf = ec;
	ec->max_output = DEFAULT_MAX_OUTPUT;
	ec->exit_codes = vd_xcalloc(1, sizeof(int));
	ec->nexit = 1;
	if (!vd_cfg_has(c, "argv"))
		return vd_cfg_error(c, "argv",
				    "required (a list: [\"docker\", "
				    "\"compose\", \"config\", \"-q\"])");
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c->obj, "argv")))
		return vd_cfg_error(c, "argv",
				    "expected a list of strings; for a shell "
				    "command write [\"sh\", \"-c\", \"...\"]");
	r = vd_cfg_strlist(c, "argv", &argv, &n);
	if (!r && n == 0)
		r = vd_cfg_error(c, "argv", "must not be empty");
	if (!r && *argv[0] == '\0')
		r = vd_cfg_error(c, "argv[0]", "must not be empty");
	if (!r) {
		/* NULL-terminated for exec */
		ec->argv = vd_xreallocarray(argv, n + 1, sizeof(char *));
		ec->argv[n] = NULL;
		ec->argc = n;
		argv = NULL;
	}
	vd_strlist_free(argv, n);
	if (!r)
		r = vd_cfg_path(c, "cwd", false, &ec->cwd);
	if (!r && ec->cwd && *ec->cwd == '\0')
		r = vd_cfg_error(c, "cwd", "must not be empty");
	/* relative paths in argv mean the same as every path of the suite */
	if (!r && ec->cwd == NULL && c->base)
		ec->cwd = vd_xstrdup(c->base);
	if (!r)
		r = vd_cfg_strmap(c, "env", &ec->env_keys, &ec->env_vals,
				  &ec->nenv);
	for (i = 0; !r && i < ec->nenv; i++) {
		if (*ec->env_keys[i] == '\0' || strchr(ec->env_keys[i], '='))
			r = vd_cfg_error(c, "env",
					 "\"%s\": a variable name must not be "
					 "empty or hold '='",
					 ec->env_keys[i]);
		else if (vd_header_is_secret(ec->env_keys[i]))
			vd_secret_add(ec->env_vals[i]);
	}
	if (!r)
		r = vd_cfg_size(c, "max_output", &ec->max_output);
	if (!r && ec->max_output == 0)
		r = vd_cfg_error(c, "max_output", "must be at least 1 byte");
	/* max_body (a common key) caps what is read from a peer; a command's
	 * cap is max_output. Refused where the check writes it, so that it is
	 * not mistaken for the output cap; a suite's defaults.max_body is for
	 * the checks that read a body and leaves exec alone. */
	if (!r && cJSON_GetObjectItemCaseSensitive(c->own ? c->own : c->obj,
						   "max_body"))
		r = vd_cfg_error(c, "max_body",
				 "an exec check reads output, not a body: "
				 "use max_output (bytes of output kept, "
				 "default 64KiB)");
	if (!r)
		r = parse_expect(c, ec);
	if (!r) {
		vd_buf_init(&t, 300);
		for (i = 0; i < ec->argc; i++)
			vd_buf_printf(&t, "%s%s", i ? " " : "", ec->argv[i]);
		free(chk->target);
		chk->target = vd_mask(t.data);
		vd_buf_free(&t);
	}
	return r;
}

static const struct vd_check_key exec_keys[] = {
	{"argv", VD_KEY_REQUIRED}, {"cwd", 0},	  {"env", 0},
	{"max_output", 0},	   {"expect", 0}, {NULL, 0}, /* the end */
};

const struct vd_check_type vd_check_exec = {
	.name = "exec",
	.parse = exec_parse,
	.start = exec_start,
	.cancel = exec_cancel,
	.free = exec_free,
	.timeout_detail = exec_timeout_detail,
	.keys = exec_keys,
};
