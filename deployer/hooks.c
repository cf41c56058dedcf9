/*
 * hooks.c - deploy, promote and rollback hooks as child processes under
 * the supervisor (lib/proc.h): argv with ${VERSION} & co filled in (no
 * shell unless the user writes one), an own process group held at a start
 * barrier until the caller has recorded its pid, a deadline that kills
 * the whole group, output captured (capped, masked as one stream) and
 * echoed line by line. Knows nothing of state files or gates.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/proc.h"
#include "dep_int.h"

#define LINE_MAX_ECHO 4096

char *
vd_dep_subst(const char *s, const struct vd_dep_hook_vars *v)
{
	static const char *const names[] = {"${VERSION}", "${PREVIOUS_VERSION}",
					    "${DEPLOYMENT_ID}",
					    "${ENVIRONMENT}", NULL};
	const char *vals[4];
	struct vd_buf b;
	size_t i;

	vals[0] = v->version ? v->version : "";
	vals[1] = v->previous_version ? v->previous_version : "";
	vals[2] = v->deployment_id ? v->deployment_id : "";
	vals[3] = v->environment ? v->environment : "";
	vd_buf_init(&b, 0);
	while (*s) {
		bool hit = false;
		if (*s == '$') {
			for (i = 0; names[i]; i++) {
				size_t n = strlen(names[i]);
				if (strncmp(s, names[i], n) == 0) {
					vd_buf_puts(&b, vals[i]);
					s += n;
					hit = true;
					break;
				}
			}
		}
		if (!hit)
			vd_buf_append(&b, s++, 1);
	}
	return vd_buf_steal(&b);
}

unsigned long long
vd_dep_proc_start(pid_t pid)
{
	char path[64], buf[2048], *p;
	unsigned long long start = 0;
	int fd, i;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* the command name may hold spaces and ')': skip to the last ')' */
	p = strrchr(buf, ')');
	if (p == NULL)
		return 0;
	p++;
	/* field 3 (state) follows; start time is field 22 */
	for (i = 3; i < 22 && p; i++) {
		p = strchr(p + 1, ' ');
	}
	if (p)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

struct hook_run {
	struct vd_dep_rt *rt;
	const struct vd_dep_hook_conf *h;
	struct vd_dep_hook_result *res;
	struct vd_mask_stream mask; /* stdout+stderr as one masked stream */
	struct vd_buf out;	    /* what is kept, masked (capped) */
	struct vd_buf line;	    /* the partial line being echoed, masked */
	bool done;
};

static void
echo_line(struct hook_run *hr)
{
	if (hr->line.len == 0)
		return;
	if (!hr->rt->quiet)
		fprintf(stderr, "  [%s] %s\n", hr->h->name, hr->line.data);
	vd_buf_reset(&hr->line);
}

/* Masked output: kept (capped) and echoed line by line. */
static void
take_masked(struct hook_run *hr, const char *p, size_t n)
{
	size_t i;
	vd_buf_append(&hr->out, p, n);
	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			echo_line(hr);
			continue;
		}
		if (p[i] != '\r')
			vd_buf_append(&hr->line, p + i, 1);
		if (hr->line.len >= LINE_MAX_ECHO)
			echo_line(hr);
	}
}

/* Raw output from the pipe: masked as one stream, whatever the pieces
 * (a secret across two reads, or across the echo's line cut). */
static void
take_output(struct hook_run *hr, const char *p, size_t n, bool end)
{
	struct vd_buf m;
	vd_buf_init(&m, 0);
	if (n)
		vd_mask_stream_feed(&hr->mask, p, n, &m);
	if (end)
		vd_mask_stream_end(&hr->mask, &m);
	take_masked(hr, m.data ? m.data : "", m.len);
	vd_buf_free(&m);
}

static void
hook_output(void *udata, enum vd_proc_stream s, const char *p, size_t n)
{
	(void)s; /* one stream: stderr goes into stdout's pipe */
	take_output(udata, p, n, false);
}

static void
hook_done(void *udata, const struct vd_proc_result *pr)
{
	struct hook_run *hr = udata;
	hr->done = true;
	hr->res->timed_out = pr->timed_out;
	hr->res->exit_code = pr->exited ? pr->exit_code : -1;
	hr->res->signal = pr->signal;
	if (pr->status_lost)
		hr->res->signal = SIGKILL; /* gone, how is unknown */
}

static void
build_env(struct vd_env *env, const struct vd_dep_hook_conf *h,
	  const struct vd_dep_hook_vars *v)
{
	size_t i;

	vd_env_init(env, true);
	vd_env_set(env, "VERDICT_VERSION", v->version ? v->version : "");
	vd_env_set(env, "VERDICT_PREVIOUS_VERSION",
		   v->previous_version ? v->previous_version : "");
	vd_env_set(env, "VERDICT_DEPLOYMENT_ID",
		   v->deployment_id ? v->deployment_id : "");
	vd_env_set(env, "VERDICT_ENVIRONMENT",
		   v->environment ? v->environment : "");
	for (i = 0; i < h->nenv; i++) {
		char *val = vd_dep_subst(h->env_values[i], v);
		vd_env_set(env, h->env_names[i], val);
		vd_free_secret(val);
	}
}

static void
free_list(char **l)
{
	size_t i;
	if (l == NULL)
		return;
	for (i = 0; l[i]; i++)
		free(l[i]);
	free(l);
}

void
vd_dep_hook_run(struct vd_dep_rt *rt, const struct vd_dep_hook_conf *h,
		const struct vd_dep_hook_vars *vars,
		void (*on_start)(pid_t pid, void *udata), void *udata,
		struct vd_dep_hook_result *res)
{
	struct hook_run hr;
	struct vd_proc_spec spec;
	struct vd_procs *ps;
	struct vd_proc *proc = NULL;
	struct vd_env env;
	char **argv;
	double started;
	int r;
	size_t i;

	memset(res, 0, sizeof(*res));
	res->exit_code = -1;
	memset(&hr, 0, sizeof(hr));
	hr.rt = rt;
	hr.h = h;
	hr.res = res;
	vd_buf_init(&hr.out, h->max_output ? h->max_output : 1);
	vd_buf_init(&hr.line, LINE_MAX_ECHO + 1);
	vd_mask_stream_init(&hr.mask);

	argv = vd_xcalloc(h->argc + 1, sizeof(*argv));
	for (i = 0; i < h->argc; i++)
		argv[i] = vd_dep_subst(h->argv[i], vars);
	build_env(&env, h, vars);
	ev_now_update(rt->loop);
	started = ev_now(rt->loop);

	/* Held at the barrier until on_start has recorded the pid (a kill -9
	 * of verdict at any moment must leave the hook's group findable);
	 * whatever is left of the group dies with the hook's main process. */
	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.envp = env.v;
	spec.cwd = h->cwd;
	spec.merge_output = true;
	spec.timeout = h->timeout;
	spec.grace = h->kill_grace;
	spec.kill_at_exit = true;
	spec.barrier = true;
	spec.on_output = hook_output;
	spec.on_done = hook_done;
	spec.udata = &hr;
	ps = vd_procs_new(rt->loop);
	r = vd_proc_spawn(ps, &spec, &proc);
	vd_env_free(&env);
	if (r != 0) {
		char *m = vd_mask(argv[0]);
		res->error =
			vd_xasprintf("cannot run \"%s\": %s", m, strerror(r));
		free(m);
		goto out;
	}
	res->ran = true;
	res->pid = vd_proc_pid(proc);
	if (on_start)
		on_start(res->pid, udata);
	r = vd_proc_release(proc);
	if (r != 0 && !hr.done) {
		res->error =
			vd_xasprintf("cannot start the hook: %s", strerror(r));
		vd_proc_terminate(proc);
	}

	if (vd_dep_await(rt, &hr.done) < 0) {
		/* stopped: the group gets SIGTERM, SIGKILL after the grace, and
		 * the hook's end is awaited all the same (it is recorded) */
		res->interrupted = true;
		vd_proc_terminate(proc);
		vd_dep_await_end(rt, &hr.done);
	}
	take_output(&hr, "", 0, true);
	echo_line(&hr);
out:
	vd_proc_free(proc);
	vd_procs_free(ps);
	ev_now_update(rt->loop);
	res->duration = ev_now(rt->loop) - started;
	res->output = hr.out.data ? vd_xstrdup(hr.out.data) : NULL;
	res->output_truncated = hr.out.truncated;
	vd_buf_free(&hr.out);
	vd_buf_free(&hr.line);
	vd_mask_stream_free(&hr.mask);
	free_list(argv);
}

void
vd_dep_hook_result_clear(struct vd_dep_hook_result *res)
{
	free(res->output);
	free(res->error);
	memset(res, 0, sizeof(*res));
}

char *
vd_dep_hook_why(const struct vd_dep_hook_result *res,
		const struct vd_dep_hook_conf *h)
{
	char d[32];
	if (res->error)
		return vd_xstrdup(res->error);
	if (res->timed_out) {
		vd_format_duration(h->timeout, d, sizeof(d));
		return vd_xasprintf("timed out after %s (process group killed)",
				    d);
	}
	if (res->interrupted)
		return vd_xstrdup("stopped: verdict was asked to stop");
	if (res->signal)
		return vd_xasprintf("killed by signal %d", res->signal);
	return vd_xasprintf("exit %d", res->exit_code);
}
