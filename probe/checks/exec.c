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
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/cfg.h"
#include "../probe_int.h"
#include "../../lib/util.h"
#include "checks.h"

extern char **environ;

#define DEFAULT_MAX_OUTPUT (64 * 1024)
#define KILL_GRACE	   1.0	/* seconds between SIGTERM and SIGKILL */
#define DRAIN_WAIT	   0.25 /* seconds to wait for EOF after exit */
#define TAIL		   512	/* bytes of stdout/stderr kept for the reason */
#define REAPER_KEY	   "exec.reaper"

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

struct exec_run;
struct reaper;

/*
 * A child process and its process group (pgid == pid). It lives in the
 * reaper's list from spawn until it is reaped and its group is gone, so a
 * prober being freed kills and reaps whatever is still running.
 */
struct xproc {
	struct reaper *rp;
	pid_t pid;
	int pidfd; /* -1 when watched with ev_child (default loop) */
	ev_io pidw;
	ev_child childw;
	ev_timer killw;	      /* SIGKILL when the grace is over */
	bool exited;	      /* the leader's status is known */
	bool reaped;	      /* the leader is reaped (its pid may be reused) */
	bool retired;	      /* the attempt is over: being terminated */
	bool killed;	      /* SIGKILL sent to the group */
	int wstatus;	      /* as from waitpid() */
	bool status_lost;     /* reaped by someone else: wstatus unknown */
	struct exec_run *run; /* the attempt, NULL once retired */
	LIST_ENTRY(xproc) link;
};

struct reaper {
	struct ev_loop *loop;
	LIST_HEAD(xproc_list, xproc) procs;
};

struct tail {
	char b[TAIL];
	size_t len;
};

struct exec_run {
	struct vd_attempt *att;
	struct xproc *proc;
	int fd[2]; /* stdout, stderr read ends; -1 at EOF */
	ev_io iow[2];
	ev_timer drainw;
	struct vd_buf out; /* stdout and stderr as they arrive, capped */
	size_t out_bytes;  /* bytes read in all */
	struct tail tails[2];
	bool drain_expired;
	bool judging;		  /* exec_judge() ran: later calls do nothing */
	struct vd_search *search; /* output_regex, off the loop */
	int code;		  /* exit code, while the search runs */
};

/* --- the reaper: children outliving their attempt --- */

static void proc_free(struct xproc *pr);

static void *
reaper_create(struct vd_prober *p)
{
	struct reaper *rp = vd_xcalloc(1, sizeof(*rp));
	rp->loop = vd_prober_loop(p);
	LIST_INIT(&rp->procs);
	return rp;
}

/* Shutdown: SIGKILL every group left and reap its leader, waiting at most
 * two seconds per child (a process stuck in the kernel cannot be waited
 * for; it is left to init). */
static void
reaper_destroy(void *state)
{
	struct reaper *rp = state;
	struct xproc *pr;

	while ((pr = LIST_FIRST(&rp->procs)) != NULL) {
		kill(-pr->pid, SIGKILL);
		if (!pr->reaped && pr->pidfd >= 0) {
			struct pollfd pfd = {.fd = pr->pidfd, .events = POLLIN};
			siginfo_t si;
			if (poll(&pfd, 1, 2000) > 0)
				waitid((idtype_t)P_PIDFD, (id_t)pr->pidfd, &si,
				       WEXITED | WNOHANG);
		} else if (!pr->reaped) {
			int i, st;
			for (i = 0; i < 200; i++) {
				pid_t w = waitpid(pr->pid, &st, WNOHANG);
				if (w != 0)
					break;
				usleep(10000);
			}
		}
		proc_free(pr);
	}
	free(rp);
}

static void
proc_free(struct xproc *pr)
{
	struct ev_loop *loop = pr->rp->loop;
	ev_io_stop(loop, &pr->pidw);
	if (pr->pidfd < 0)
		ev_child_stop(loop, &pr->childw);
	ev_timer_stop(loop, &pr->killw);
	if (pr->pidfd >= 0)
		close(pr->pidfd);
	LIST_REMOVE(pr, link);
	free(pr);
}

/* Reaps the leader on the pidfd path (the status was taken with WNOWAIT:
 * the zombie kept the group's id reserved until now). */
static void
proc_reap(struct xproc *pr)
{
	siginfo_t si;
	if (pr->reaped)
		return;
	if (pr->pidfd >= 0)
		waitid((idtype_t)P_PIDFD, (id_t)pr->pidfd, &si,
		       WEXITED | WNOHANG);
	pr->reaped = true;
}

/* A retired child is done once its leader exited and the grace is over
 * (SIGKILL sent to whatever was left in the group). */
static void
proc_retire_step(struct xproc *pr)
{
	if (pr->exited && pr->killed) {
		proc_reap(pr);
		proc_free(pr);
	}
}

static void exec_exited(struct exec_run *run);

static void
proc_exited(struct xproc *pr, int wstatus)
{
	pr->exited = true;
	pr->wstatus = wstatus;
	if (pr->run)
		exec_exited(pr->run);
	else if (pr->retired)
		proc_retire_step(pr);
}

static void
pidfd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct xproc *pr = w->data;
	siginfo_t si;
	int wstatus;
	(void)revents;

	memset(&si, 0, sizeof(si));
	ev_io_stop(loop, w);
	/* WNOWAIT: the zombie keeps the process group id from being reused
	 * while the group is still signalled. */
	if (waitid((idtype_t)P_PIDFD, (id_t)pr->pidfd, &si,
		   WEXITED | WNOHANG | WNOWAIT) < 0 ||
	    si.si_pid == 0) {
		/* someone else reaped it: see the top of this file */
		pr->reaped = true;
		pr->status_lost = true;
		wstatus = 0;
	} else if (si.si_code == CLD_EXITED) {
		wstatus = (si.si_status & 0xff) << 8;
	} else {
		wstatus = si.si_status & 0x7f; /* killed or dumped */
	}
	proc_exited(pr, wstatus);
}

static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct xproc *pr = w->data;
	(void)revents;
	ev_child_stop(loop, w);
	pr->reaped = true; /* libev's SIGCHLD handler reaped it */
	proc_exited(pr, w->rstatus);
}

static void
kill_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct xproc *pr = w->data;
	(void)loop;
	(void)revents;
	kill(-pr->pid, SIGKILL);
	pr->killed = true;
	proc_retire_step(pr);
}

/*
 * The attempt is over: the group gets SIGTERM now and SIGKILL after the
 * grace; the leader is reaped when it is gone. If the leader was reaped
 * (ev_child path) and nothing is left in its group, it is done at once.
 */
static void
proc_retire(struct xproc *pr)
{
	pr->run = NULL;
	pr->retired = true;
	if (pr->reaped && kill(-pr->pid, 0) < 0 && errno == ESRCH) {
		proc_free(pr);
		return;
	}
	kill(-pr->pid, SIGTERM);
	ev_timer_set(&pr->killw, KILL_GRACE, 0.);
	ev_timer_start(pr->rp->loop, &pr->killw);
}

/* Starts watching pid; returns NULL (errno set) if it cannot be watched. */
static struct xproc *
proc_watch(struct reaper *rp, pid_t pid)
{
	struct xproc *pr = vd_xcalloc(1, sizeof(*pr));

	pr->rp = rp;
	pr->pid = pid;
	pr->pidfd = -1;
	ev_io_init(&pr->pidw, pidfd_cb, -1, EV_READ);
	pr->pidw.data = pr;
	ev_timer_init(&pr->killw, kill_cb, KILL_GRACE, 0.);
	pr->killw.data = pr;
	if (ev_is_default_loop(rp->loop)) {
		ev_child_init(&pr->childw, child_cb, pid, 0);
		pr->childw.data = pr;
		ev_child_start(rp->loop, &pr->childw);
	} else {
		pr->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pr->pidfd < 0) {
			free(pr);
			return NULL;
		}
		fcntl(pr->pidfd, F_SETFD, FD_CLOEXEC);
		ev_io_set(&pr->pidw, pr->pidfd, EV_READ);
		ev_io_start(rp->loop, &pr->pidw);
	}
	LIST_INSERT_HEAD(&rp->procs, pr, link);
	return pr;
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

/* Everything is in: the command exited and its output ended (or stayed
 * open past the drain wait). */
/* The end of exec_judge(), once output_regex has been searched. */
static void
output_searched(enum vd_match m, const char *limit, void *udata)
{
	struct exec_run *run = udata;
	struct vd_attempt *att = run->att;
	const struct exec_conf *ec = att->check->conf;
	const char *trunc = run->out.truncated ? " (output truncated at "
						 "max_output)"
					       : "";

	if (m == VD_MATCH_LIMIT) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_LIMIT,
				  "output_regex /%.80s/: the search hit the "
				  "%s (%zu bytes of output)",
				  vd_regex_source(ec->regex), limit,
				  run->out.len);
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
			  run->out.truncated ? ", output truncated at "
					       "max_output"
					     : "");
}

static void
exec_judge(struct exec_run *run)
{
	struct vd_attempt *att = run->att;
	const struct exec_conf *ec = att->check->conf;
	int st = run->proc->wstatus, code;
	const char *trunc = run->out.truncated ? " (output truncated at "
						 "max_output)"
					       : "";
	char line[200], want[128];
	size_t i;

	if (run->judging)
		return;
	run->judging = true;
	ev_timer_stop(att->loop, &run->drainw);
	vd_result_fact_num(att->result, "output_bytes", (double)run->out_bytes);
	vd_result_fact_bool(att->result, "output_truncated",
			    run->out.truncated);
	if (run->drain_expired)
		vd_result_fact_bool(att->result, "output_open_after_exit",
				    true);
	last_line(run, line, sizeof(line));
	if (run->proc->status_lost) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "exit status lost: another SIGCHLD handler "
				  "reaped the command");
		return;
	}
	if (WIFSIGNALED(st)) {
		const char *name = sigabbrev_np(WTERMSIG(st));
		vd_result_fact_num(att->result, "signal", WTERMSIG(st));
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_VALUE,
				  "killed by signal %d (SIG%s)%s%s",
				  WTERMSIG(st), name ? name : "?",
				  *line ? ": " : "", line);
		return;
	}
	code = WEXITSTATUS(st);
	vd_result_fact_num(att->result, "exit_code", code);
	if (!exit_ok(ec, code)) {
		exit_wanted(ec, want, sizeof(want));
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_VALUE,
				  "exit %d, expected %s%s%s", code, want,
				  *line ? ": " : "", line);
		return;
	}
	for (i = 0; i < ec->ncontains; i++) {
		if (memmem(run->out.data, run->out.len, ec->contains[i],
			   strlen(ec->contains[i])) == NULL) {
			vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_BODY,
					  "output does not contain \"%.80s\"%s",
					  ec->contains[i], trunc);
			return;
		}
	}
	run->code = code;
	if (ec->regex != NULL) {
		run->search =
			vd_search_start(att, ec->regex, run->out.data,
					run->out.len, output_searched, run);
		return;
	}
	output_searched(VD_MATCH_YES, NULL, run);
}

static bool
pipes_done(const struct exec_run *run)
{
	return run->fd[0] < 0 && run->fd[1] < 0;
}

static void
exec_exited(struct exec_run *run)
{
	double wait;
	if (run->att->finished)
		return;
	if (pipes_done(run)) {
		exec_judge(run);
		return;
	}
	/* Output written before the exit is still in the pipes and arrives
	 * at once; only a background process holding a pipe open keeps it
	 * from ending. Do not wait for that past a short while. */
	wait = vd_attempt_remaining(run->att);
	if (wait > DRAIN_WAIT)
		wait = DRAIN_WAIT;
	ev_timer_set(&run->drainw, wait, 0.);
	ev_timer_start(run->att->loop, &run->drainw);
}

static void
drain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct exec_run *run = w->data;
	(void)loop;
	(void)revents;
	if (run->att->finished)
		return;
	run->drain_expired = true;
	exec_judge(run);
}

static void
pipe_close(struct exec_run *run, int i)
{
	if (run->fd[i] < 0)
		return;
	ev_io_stop(run->att->loop, &run->iow[i]);
	close(run->fd[i]);
	run->fd[i] = -1;
}

static void
pipe_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct exec_run *run = w->data;
	int i = w == &run->iow[0] ? 0 : 1, rounds;
	char buf[16384];
	ssize_t n;
	(void)loop;
	(void)revents;

	/* A few reads per wakeup, so one chatty command cannot hog the
	 * loop; the watcher fires again while data is left. */
	for (rounds = 0; rounds < 8; rounds++) {
		n = read(run->fd[i], buf, sizeof(buf));
		if (n > 0) {
			run->out_bytes += (size_t)n;
			vd_buf_append(&run->out, buf, (size_t)n);
			tail_add(&run->tails[i], buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		pipe_close(run, i); /* EOF, or an error that ends it alike */
		if (pipes_done(run) && run->proc->exited && !run->att->finished)
			exec_judge(run);
		return;
	}
}

/* Moves fd to 3 or above (keeping it close-on-exec), so that the spawn's
 * dup2 onto 0-2 never collides with it. Returns the fd or -1. */
static int
fd_high(int fd)
{
	int nfd;
	if (fd < 0 || fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

static char **
build_env(const struct exec_conf *ec)
{
	size_t n = 0, k = 0, i, j;
	char **envp;

	while (environ && environ[n])
		n++;
	envp = vd_xcalloc(n + ec->nenv + 1, sizeof(char *));
	for (i = 0; i < n; i++) {
		bool over = false;
		for (j = 0; j < ec->nenv && !over; j++) {
			size_t kl = strlen(ec->env_keys[j]);
			over = strncmp(environ[i], ec->env_keys[j], kl) == 0 &&
			       environ[i][kl] == '=';
		}
		if (!over)
			envp[k++] = vd_xstrdup(environ[i]);
	}
	for (j = 0; j < ec->nenv; j++)
		envp[k++] =
			vd_xasprintf("%s=%s", ec->env_keys[j], ec->env_vals[j]);
	return envp;
}

static void
free_env(char **envp)
{
	size_t i;
	for (i = 0; envp[i]; i++)
		vd_free_secret(envp[i]);
	free(envp);
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

/*
 * Spawns the command with stdin from /dev/null, stdout and stderr into
 * pipes, in a new process group, with default signal dispositions and an
 * empty signal mask (verdict ignores SIGPIPE; libev blocks signals), and
 * no descriptor of ours but 0-2. Returns 0 or an errno value.
 */
static int
spawn(const struct exec_conf *ec, int outw, int errw, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	char **envp = build_env(ec);
	int r;

	sigfillset(&all);
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outw, 1);
	posix_spawn_file_actions_adddup2(&fa, errw, 2);
	if (ec->cwd)
		posix_spawn_file_actions_addchdir_np(&fa, ec->cwd);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
						POSIX_SPAWN_SETSIGDEF |
						POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setsigmask(&attr, &none);
	r = posix_spawnp(pid, ec->argv[0], &fa, &attr, ec->argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	free_env(envp);
	return r;
}

static void
exec_start(struct vd_attempt *att)
{
	const struct exec_conf *ec = att->check->conf;
	struct exec_run *run = vd_xcalloc(1, sizeof(*run));
	struct reaper *rp;
	int po[2] = {-1, -1}, pe[2] = {-1, -1}, i, r;
	pid_t pid;

	att->data = run;
	run->att = att;
	run->fd[0] = run->fd[1] = -1;
	vd_buf_init(&run->out, ec->max_output);
	ev_timer_init(&run->drainw, drain_cb, DRAIN_WAIT, 0.);
	run->drainw.data = run;
	rp = vd_prober_shared(att->prober, REAPER_KEY, reaper_create,
			      reaper_destroy);

	/* The child's ends stay blocking (programs expect that); ours are
	 * made non-blocking below. */
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 ||
	    (po[1] = fd_high(po[1])) < 0 || (pe[1] = fd_high(pe[1])) < 0) {
		r = errno;
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "cannot create pipes: %s", strerror(r));
		goto fail;
	}
	r = spawn(ec, po[1], pe[1], &pid);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	if (r != 0) {
		spawn_failed(att, ec, r);
		goto fail;
	}
	run->proc = proc_watch(rp, pid);
	if (run->proc == NULL) {
		r = errno;
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0); /* SIGKILLed just now: immediate */
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "cannot watch the child (pidfd_open: %s; "
				  "Linux 5.3+ is needed off the default loop)",
				  strerror(r));
		goto fail;
	}
	run->proc->run = run;
	run->fd[0] = po[0];
	run->fd[1] = pe[0];
	for (i = 0; i < 2; i++) {
		vd_set_nonblock(run->fd[i]);
		ev_io_init(&run->iow[i], pipe_cb, run->fd[i], EV_READ);
		run->iow[i].data = run;
		ev_io_start(att->loop, &run->iow[i]);
	}
	return;
fail:
	for (i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
}

static void
exec_cancel(struct vd_attempt *att)
{
	struct exec_run *run = att->data;

	if (run == NULL)
		return;
	vd_search_free(run->search);
	pipe_close(run, 0);
	pipe_close(run, 1);
	ev_timer_stop(att->loop, &run->drainw);
	if (run->proc) {
		proc_retire(run->proc);
		if (att->timed_out)
			vd_result_fact_bool(att->result, "killed", true);
	}
	vd_buf_free(&run->out);
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
		 !run->proc->exited ? "process group killed"
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

const struct vd_check_type vd_check_exec = {
	.name = "exec",
	.parse = exec_parse,
	.start = exec_start,
	.cancel = exec_cancel,
	.free = exec_free,
	.timeout_detail = exec_timeout_detail,
};
