/*
 * hooks.c - deploy, promote and rollback hooks as child processes: argv
 * with ${VERSION} & co filled in (no shell unless the user writes one),
 * an own process group, a deadline that kills the whole group, output
 * captured (capped, masked as one stream) through ev_io. The child is watched
 * with ev_child on the default loop (whose SIGCHLD handler reaps every child),
 * through a pidfd on ev_io elsewhere. Knows nothing of state files or gates.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dep_int.h"

extern char **environ;

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
	pid_t pid;
	int out_fd;
	int pid_fd;
	ev_io out_io;
	ev_io pid_io;
	ev_child child; /* when pidfd_open is not available */
	ev_timer deadline;
	ev_timer grace;
	struct vd_mask_stream mask; /* stdout+stderr as one masked stream */
	struct vd_buf out;	    /* what is kept, masked (capped) */
	struct vd_buf line;	    /* the partial line being echoed, masked */
	bool exited;
	int wstatus;
	bool term_sent;
	bool use_child;
	double started;
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

/* Reads what is there without waiting; returns false at EOF/error. */
static bool
drain(struct hook_run *hr)
{
	char buf[8192];
	for (;;) {
		ssize_t n = read(hr->out_fd, buf, sizeof(buf));
		if (n > 0) {
			take_output(hr, buf, (size_t)n, false);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		return false;
	}
}

static void
out_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct hook_run *hr = w->data;
	(void)revents;
	if (!drain(hr))
		ev_io_stop(loop, w);
}

static void
exited(struct hook_run *hr, int wstatus)
{
	hr->exited = true;
	hr->wstatus = wstatus;
}

static void
reap(struct hook_run *hr)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	/* the leader is a zombie until reaped: its group id cannot be
	 * reused yet, so killing the group here hits only our stragglers */
	kill(-hr->pid, SIGKILL);
	if (waitid(P_PID, (id_t)hr->pid, &si, WEXITED) < 0)
		return;
	if (si.si_code == CLD_EXITED)
		exited(hr, W_EXITCODE(si.si_status, 0));
	else
		exited(hr, si.si_status & 0x7f);
}

static void
pid_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct hook_run *hr = w->data;
	(void)revents;
	ev_io_stop(loop, w);
	reap(hr);
}

static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct hook_run *hr = w->data;
	(void)revents;
	ev_child_stop(loop, w);
	kill(-hr->pid, SIGKILL);
	exited(hr, w->rstatus);
}

static void
grace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hook_run *hr = w->data;
	(void)loop;
	(void)revents;
	kill(-hr->pid, SIGKILL);
	/* repeats each second: should the exit status be lost (someone
	 * else reaped the child), a vanished leader still ends the wait */
	if (kill(hr->pid, 0) < 0 && errno == ESRCH && !hr->exited)
		exited(hr, SIGKILL);
}

static void
terminate(struct hook_run *hr)
{
	if (hr->term_sent)
		return;
	hr->term_sent = true;
	kill(-hr->pid, SIGTERM);
	ev_timer_set(&hr->grace, hr->h->kill_grace > 0 ? hr->h->kill_grace : 0.,
		     1.);
	ev_timer_start(hr->rt->loop, &hr->grace);
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hook_run *hr = w->data;
	(void)loop;
	(void)revents;
	hr->res->timed_out = true;
	terminate(hr);
}

static char **
build_env(const struct vd_dep_hook_conf *h, const struct vd_dep_hook_vars *v)
{
	size_t n = 0, i, k = 0;
	char **env;
	for (i = 0; environ[i]; i++)
		n++;
	env = vd_xcalloc(n + h->nenv + 5, sizeof(*env));
	for (i = 0; environ[i]; i++) {
		bool over =
			vd_startswith(environ[i], "VERDICT_VERSION=") ||
			vd_startswith(environ[i],
				      "VERDICT_PREVIOUS_VERSION=") ||
			vd_startswith(environ[i], "VERDICT_DEPLOYMENT_ID=") ||
			vd_startswith(environ[i], "VERDICT_ENVIRONMENT=");
		for (size_t j = 0; !over && j < h->nenv; j++) {
			size_t l = strlen(h->env_names[j]);
			over = strncmp(environ[i], h->env_names[j], l) == 0 &&
			       environ[i][l] == '=';
		}
		if (!over)
			env[k++] = vd_xstrdup(environ[i]);
	}
	env[k++] = vd_xasprintf("VERDICT_VERSION=%s",
				v->version ? v->version : "");
	env[k++] = vd_xasprintf("VERDICT_PREVIOUS_VERSION=%s",
				v->previous_version ? v->previous_version : "");
	env[k++] = vd_xasprintf("VERDICT_DEPLOYMENT_ID=%s",
				v->deployment_id ? v->deployment_id : "");
	env[k++] = vd_xasprintf("VERDICT_ENVIRONMENT=%s",
				v->environment ? v->environment : "");
	for (i = 0; i < h->nenv; i++) {
		char *val = vd_dep_subst(h->env_values[i], v);
		env[k++] = vd_xasprintf("%s=%s", h->env_names[i], val);
		free(val);
	}
	env[k] = NULL;
	return env;
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

/*
 * Starts the child in its own process group, held at a barrier until
 * on_start has recorded its pid (a kill -9 of verdict at any moment must
 * leave the hook's group findable), then lets it exec. Returns 0, or an
 * errno value when the program could not be started.
 */
static int
spawn(struct hook_run *hr, char **argv, char **envp, int out_w,
      void (*on_start)(pid_t pid, void *udata), void *udata)
{
	static const int dfl[] = {SIGPIPE, SIGINT,  SIGTERM, SIGHUP,
				  SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2,
				  SIGALRM, SIGXFSZ, 0};
	int go[2], ep[2], e = 0, i, devnull;
	ssize_t n;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) < 0)
		return errno;
	if (pipe2(ep, O_CLOEXEC) < 0) {
		e = errno;
		close(go[0]);
		close(go[1]);
		return e;
	}
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(go[0]);
		close(go[1]);
		close(ep[0]);
		close(ep[1]);
		if (devnull >= 0)
			close(devnull);
		return e;
	}
	if (pid == 0) {
		/* the child: async-signal-safe calls only */
		sigset_t none;
		char c;
		setpgid(0, 0);
		for (i = 0; dfl[i]; i++)
			signal(dfl[i], SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close(go[1]);
		/* EOF: verdict died before it recorded us; do nothing */
		do
			n = read(go[0], &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(127);
		if (hr->h->cwd && chdir(hr->h->cwd) < 0)
			goto fail;
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_w, 1) < 0 ||
		    dup2(out_w, 2) < 0)
			goto fail;
		/* nothing of verdict's leaks into the hook */
		syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
		execvpe(argv[0], argv, envp);
	fail:
		e = errno;
		(void)!write(ep[1], &e, sizeof(e));
		_exit(127);
	}
	close(go[0]);
	close(ep[1]);
	if (devnull >= 0)
		close(devnull);
	setpgid(pid, pid); /* either of us may be first */
	hr->pid = pid;
	if (on_start)
		on_start(pid, udata);
	(void)!write(go[1], "x", 1);
	close(go[1]);
	/* until exec (EOF, the pipe is close-on-exec) or its failure */
	do
		n = read(ep[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	if (n == (ssize_t)sizeof(e)) {
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		return e ? e : ENOEXEC;
	}
	return 0;
}

void
vd_dep_hook_run(struct vd_dep_rt *rt, const struct vd_dep_hook_conf *h,
		const struct vd_dep_hook_vars *vars,
		void (*on_start)(pid_t pid, void *udata), void *udata,
		struct vd_dep_hook_result *res)
{
	struct hook_run hr;
	char **argv, **envp;
	int fds[2], r;
	size_t i;

	memset(res, 0, sizeof(*res));
	res->exit_code = -1;
	memset(&hr, 0, sizeof(hr));
	hr.rt = rt;
	hr.h = h;
	hr.res = res;
	hr.out_fd = hr.pid_fd = -1;
	vd_buf_init(&hr.out, h->max_output ? h->max_output : 1);
	vd_buf_init(&hr.line, LINE_MAX_ECHO + 1);
	vd_mask_stream_init(&hr.mask);

	argv = vd_xcalloc(h->argc + 1, sizeof(*argv));
	for (i = 0; i < h->argc; i++)
		argv[i] = vd_dep_subst(h->argv[i], vars);
	envp = build_env(h, vars);
	ev_now_update(rt->loop);
	hr.started = ev_now(rt->loop);

	if (pipe2(fds, O_CLOEXEC) < 0) {
		res->error = vd_xasprintf("pipe: %s", strerror(errno));
		goto out;
	}
	r = spawn(&hr, argv, envp, fds[1], on_start, udata);
	close(fds[1]);
	if (r != 0) {
		char *m = vd_mask(argv[0]);
		res->error =
			vd_xasprintf("cannot run \"%s\": %s", m, strerror(r));
		free(m);
		close(fds[0]);
		goto out;
	}
	res->ran = true;
	res->pid = hr.pid;
	hr.out_fd = fds[0];
	vd_set_nonblock(hr.out_fd);

	ev_io_init(&hr.out_io, out_cb, hr.out_fd, EV_READ);
	hr.out_io.data = &hr;
	ev_io_start(rt->loop, &hr.out_io);
	/* libev's default loop reaps every child itself (waitpid(-1) on
	 * SIGCHLD): there only ev_child learns the exit status */
	if (!ev_is_default_loop(rt->loop))
		hr.pid_fd = pidfd_open(hr.pid, 0);
	if (hr.pid_fd >= 0) {
		ev_io_init(&hr.pid_io, pid_cb, hr.pid_fd, EV_READ);
		hr.pid_io.data = &hr;
		ev_io_start(rt->loop, &hr.pid_io);
	} else {
		hr.use_child = true;
		ev_child_init(&hr.child, child_cb, hr.pid, 0);
		hr.child.data = &hr;
		ev_child_start(rt->loop, &hr.child);
	}
	ev_timer_init(&hr.deadline, deadline_cb, h->timeout, 0.);
	hr.deadline.data = &hr;
	ev_timer_start(rt->loop, &hr.deadline);
	ev_timer_init(&hr.grace, grace_cb, 0., 0.);
	hr.grace.data = &hr;

	while (!hr.exited) {
		if (rt->stop_signal && !hr.term_sent) {
			res->interrupted = true;
			terminate(&hr);
		}
		ev_run(rt->loop, EVRUN_ONCE);
	}
	/* the group is dead by now: take what is left in the pipe */
	(void)drain(&hr);
	take_output(&hr, "", 0, true);
	echo_line(&hr);
	ev_io_stop(rt->loop, &hr.out_io);
	ev_io_stop(rt->loop, &hr.pid_io);
	if (hr.use_child)
		ev_child_stop(rt->loop, &hr.child);
	ev_timer_stop(rt->loop, &hr.deadline);
	ev_timer_stop(rt->loop, &hr.grace);
	if (hr.pid_fd >= 0)
		close(hr.pid_fd);
	close(hr.out_fd);
	if (WIFEXITED(hr.wstatus))
		res->exit_code = WEXITSTATUS(hr.wstatus);
	else if (WIFSIGNALED(hr.wstatus))
		res->signal = WTERMSIG(hr.wstatus);
out:
	ev_now_update(rt->loop);
	res->duration = ev_now(rt->loop) - hr.started;
	res->output = hr.out.data ? vd_xstrdup(hr.out.data) : NULL;
	res->output_truncated = hr.out.truncated;
	vd_buf_free(&hr.out);
	vd_buf_free(&hr.line);
	vd_mask_stream_free(&hr.mask);
	free_list(argv);
	free_list(envp);
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
