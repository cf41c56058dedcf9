/*
 * proc.c - the one child-process supervisor (see proc.h for the contract,
 * how exits are watched and the answer to the pgid-reuse race) and the one
 * environment builder. Depends on libc, libev and util.h only; Linux.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

extern char **environ;

#define READ_CHUNK 16384 /* bytes per read() */
#define READ_ROUNDS                                                            \
	8 /* reads per wakeup, so one chatty child cannot                      \
	     hold the loop */
#define LOST_CHECKS                                                            \
	2 /* one-second checks of a leader gone without a                      \
	     status before it counts as lost */

/*
 * The barrier: /bin/sh waits for a line on descriptor 3 (a socket whose
 * other end the supervisor holds), closes it and execs the command. EOF
 * (verdict gone, or the child freed unreleased) ends it with 127.
 */
static const char barrier_script[] =
	"read -r go <&3 || exit 127; exec 3<&-; exec \"$@\"";

/* --- environments ------------------------------------------------------ */

static void
env_grow(struct vd_env *e)
{
	if (e->n + 1 < e->cap)
		return;
	e->cap = e->cap ? e->cap * 2 : 16;
	e->v = vd_xreallocarray(e->v, e->cap, sizeof(char *));
}

void
vd_env_init(struct vd_env *e, bool inherit)
{
	size_t i;

	memset(e, 0, sizeof(*e));
	env_grow(e);
	for (i = 0; inherit && environ && environ[i]; i++) {
		env_grow(e);
		e->v[e->n++] = vd_xstrdup(environ[i]);
	}
	e->v[e->n] = NULL;
}

/* True when entry is "name=...". */
static bool
env_is(const char *entry, const char *name)
{
	size_t l = strlen(name);
	return strncmp(entry, name, l) == 0 && entry[l] == '=';
}

void
vd_env_unset(struct vd_env *e, const char *name)
{
	size_t i = 0, k = 0;

	for (i = 0; i < e->n; i++) {
		if (env_is(e->v[i], name))
			vd_free_secret(e->v[i]);
		else
			e->v[k++] = e->v[i];
	}
	e->n = k;
	e->v[e->n] = NULL;
}

void
vd_env_set(struct vd_env *e, const char *name, const char *value)
{
	vd_env_unset(e, name);
	env_grow(e);
	e->v[e->n++] = vd_xasprintf("%s=%s", name, value);
	e->v[e->n] = NULL;
}

const char *
vd_env_get(const struct vd_env *e, const char *name)
{
	size_t i;
	for (i = 0; i < e->n; i++)
		if (env_is(e->v[i], name))
			return e->v[i] + strlen(name) + 1;
	return NULL;
}

void
vd_env_free(struct vd_env *e)
{
	size_t i;
	for (i = 0; i < e->n; i++)
		vd_free_secret(e->v[i]);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

/* --- the program lookup ------------------------------------------------ */

/* 0 when path (relative to cwd) is a regular file we may execute, else
 * an errno value. */
static int
runnable(const char *path, const char *cwd)
{
	struct stat sb;
	char *full = NULL;
	int r = 0;

	if (path[0] != '/' && cwd != NULL)
		path = full = vd_xasprintf("%s/%s", cwd, path);
	if (stat(path, &sb) < 0)
		r = errno;
	else if (!S_ISREG(sb.st_mode) || access(path, X_OK) < 0)
		r = EACCES;
	free(full);
	return r;
}

int
vd_proc_find_program(const char *prog, const char *cwd, const char *path,
		     char **out)
{
	bool denied = false;
	int r;

	*out = NULL;
	if (*prog == '\0')
		return ENOENT;
	if (strchr(prog, '/') != NULL) {
		r = runnable(prog, cwd);
		if (r == 0)
			*out = vd_xstrdup(prog);
		return r;
	}
	if (path == NULL)
		path = "/bin:/usr/bin"; /* execvp's default */
	for (;;) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);
		char *cand = n ? vd_xasprintf("%.*s/%s", (int)n, path, prog)
			       : vd_xasprintf("./%s", prog);
		r = runnable(cand, cwd);
		if (r == 0) {
			*out = cand;
			return 0;
		}
		free(cand);
		if (r == EACCES)
			denied = true;
		if (colon == NULL)
			break;
		path = colon + 1;
	}
	return denied ? EACCES : ENOENT;
}

/* --- the supervisor ---------------------------------------------------- */

struct vd_proc {
	struct vd_procs *ps;
	LIST_ENTRY(vd_proc) link;
	pid_t pid;	/* also the pgid */
	int pidfd;	/* -1 on the ev_child path (the default loop) */
	bool use_child; /* watched with childw */
	int go;		/* the barrier's end, -1 once released */
	int fd[2];	/* stdout, stderr read ends; -1 at EOF */
	ev_io iow[2];
	ev_io pidw;
	ev_child childw;
	ev_timer deadline; /* spec.timeout */
	ev_timer killw;	   /* the grace, then SIGKILL, then checks for a
			      leader gone without a status */
	ev_timer drainw;   /* output still open after the exit */
	struct vd_buf out;
	size_t out_bytes;
	double grace; /* seconds */
	bool kill_at_exit;
	void (*on_output)(void *udata, enum vd_proc_stream s, const char *p,
			  size_t n);
	void (*on_done)(void *udata, const struct vd_proc_result *res);
	void *udata;
	int wstatus;	  /* as from waitpid(), once exited */
	bool exited;	  /* the leader's end is known */
	bool reaped;	  /* the leader is reaped: its pid may be reused */
	bool status_lost; /* reaped by someone else */
	bool timed_out;
	bool output_open;
	bool term_sent;	 /* SIGTERM sent (or tried) */
	bool killed;	 /* SIGKILL sent: the group is done with */
	bool group_gone; /* the group is empty (or its id reused) */
	bool done;	 /* on_done was called */
	bool freed;	 /* the caller let go: retire, then destroy */
	int depth;	 /* the caller's callbacks on the stack */
	int lost;	 /* checks that found the leader gone, no status */
};

struct vd_procs {
	struct ev_loop *loop;
	LIST_HEAD(vd_proc_list, vd_proc) procs;
	size_t n;
};

struct vd_procs *
vd_procs_new(struct ev_loop *loop)
{
	struct vd_procs *ps = vd_xcalloc(1, sizeof(*ps));
	ps->loop = loop;
	LIST_INIT(&ps->procs);
	return ps;
}

size_t
vd_procs_count(const struct vd_procs *ps)
{
	return ps->n;
}

/*
 * Sends sig to the group, under the rule in proc.h: once the leader is
 * reaped, a process holding its pid means the id was reused. Returns true
 * when the group may still have members.
 */
static bool
group_signal(struct vd_proc *p, int sig)
{
	if (p->group_gone)
		return false;
	if (p->reaped && (kill(p->pid, 0) == 0 || errno != ESRCH)) {
		p->group_gone = true;
		return false;
	}
	if (kill(-p->pid, sig) < 0 && errno == ESRCH) {
		p->group_gone = true;
		return false;
	}
	return true;
}

static void
pipe_close(struct vd_proc *p, int i)
{
	if (p->fd[i] < 0)
		return;
	ev_io_stop(p->ps->loop, &p->iow[i]);
	close(p->fd[i]);
	p->fd[i] = -1;
}

static void
destroy(struct vd_proc *p)
{
	struct ev_loop *loop = p->ps->loop;

	pipe_close(p, 0);
	pipe_close(p, 1);
	ev_io_stop(loop, &p->pidw);
	if (p->use_child)
		ev_child_stop(loop, &p->childw);
	ev_timer_stop(loop, &p->deadline);
	ev_timer_stop(loop, &p->killw);
	ev_timer_stop(loop, &p->drainw);
	if (p->pidfd >= 0)
		close(p->pidfd);
	if (p->go >= 0)
		close(p->go);
	vd_buf_free(&p->out);
	LIST_REMOVE(p, link);
	p->ps->n--;
	free(p);
}

/* Reaps the leader on the pidfd path (its status was taken with WNOWAIT:
 * the zombie kept the group id reserved until now). */
static void
reap(struct vd_proc *p)
{
	siginfo_t si;
	if (p->reaped)
		return;
	if (p->pidfd >= 0)
		(void)waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si,
			     WEXITED | WNOHANG);
	p->reaped = true;
}

static void terminate(struct vd_proc *p);

/* The caller let go: finish the group off, then free. May destroy p. */
static void
retire_step(struct vd_proc *p)
{
	if (p->exited && (p->killed || p->group_gone)) {
		reap(p);
		destroy(p);
		return;
	}
	if (p->exited && p->reaped && !group_signal(p, 0)) {
		destroy(p); /* nothing was left in the group */
		return;
	}
	terminate(p);
}

static void
retire(struct vd_proc *p)
{
	p->freed = true;
	if (p->go >= 0) {
		close(p->go); /* unreleased: the child exits 127 */
		p->go = -1;
	}
	pipe_close(p, 0);
	pipe_close(p, 1);
	ev_timer_stop(p->ps->loop, &p->deadline);
	ev_timer_stop(p->ps->loop, &p->drainw);
	retire_step(p);
}

/* After a callback of the caller's: true when p must not be touched
 * again (it was freed in the callback, and is retired now). */
static bool
after_callback(struct vd_proc *p)
{
	p->depth--;
	if (p->depth == 0 && p->freed) {
		retire(p);
		return true;
	}
	return false;
}

/*
 * Reads what pipe i holds now, READ_ROUNDS reads at most (so one chatty
 * child cannot hold the loop; its watcher fires again). Returns 1 when the
 * pipe ended (closed now or before), 0 when it is empty for now, -1 when
 * the caller freed p from on_output (p is gone).
 */
static int
pipe_read(struct vd_proc *p, int i)
{
	char buf[READ_CHUNK];
	ssize_t n;
	int rounds;

	for (rounds = 0; p->fd[i] >= 0 && rounds < READ_ROUNDS; rounds++) {
		n = read(p->fd[i], buf, sizeof(buf));
		if (n > 0) {
			p->out_bytes += (size_t)n;
			if (p->out.cap_max > 0)
				vd_buf_append(&p->out, buf, (size_t)n);
			if (p->on_output) {
				p->depth++;
				p->on_output(p->udata, (enum vd_proc_stream)i,
					     buf, (size_t)n);
				if (after_callback(p))
					return -1;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		pipe_close(p, i); /* EOF, or an error that ends it alike */
	}
	return p->fd[i] < 0;
}

/* Reads what both pipes hold now; returns 1 when both ended, 0 when one
 * is still open, -1 when p is gone (see pipe_read). */
static int
pipes_read(struct vd_proc *p)
{
	int i;
	for (i = 0; i < 2; i++)
		if (pipe_read(p, i) < 0)
			return -1;
	return p->fd[0] < 0 && p->fd[1] < 0;
}

static void
finish(struct vd_proc *p)
{
	struct vd_proc_result res;
	int st = p->wstatus;

	if (p->done || p->freed)
		return;
	p->done = true;
	ev_timer_stop(p->ps->loop, &p->drainw);
	pipe_close(p, 0);
	pipe_close(p, 1);
	memset(&res, 0, sizeof(res));
	res.pid = p->pid;
	res.exit_code = -1;
	res.status_lost = p->status_lost;
	if (!p->status_lost && WIFEXITED(st)) {
		res.exited = true;
		res.exit_code = WEXITSTATUS(st);
	} else if (!p->status_lost && WIFSIGNALED(st)) {
		res.signal = WTERMSIG(st);
	}
	res.timed_out = p->timed_out;
	res.output_open = p->output_open;
	res.output = &p->out;
	res.output_bytes = p->out_bytes;
	if (p->on_done == NULL)
		return;
	p->depth++;
	p->on_done(p->udata, &res);
	(void)after_callback(p);
}

/* The leader exited and its output ended, or may be done soon. */
static void
check_done(struct vd_proc *p)
{
	int r;

	if (p->done || p->freed || !p->exited)
		return;
	/* What the leader wrote is in the pipes already, and its ends are
	 * closed: read it now rather than wait for the watchers, which a
	 * busy loop iteration may invoke after a drain timer started on a
	 * stale clock (output was judged missing under load). */
	r = pipes_read(p);
	if (r < 0)
		return;
	if (r > 0) {
		finish(p);
		return;
	}
	/* Only a process still holding a pipe open (a background one) keeps
	 * it from ending. */
	if (!ev_is_active(&p->drainw)) {
		ev_now_update(p->ps->loop);
		ev_timer_set(&p->drainw, VD_PROC_DRAIN, 0.);
		ev_timer_start(p->ps->loop, &p->drainw);
	}
}

static void
leader_exited(struct vd_proc *p, int wstatus, bool lost)
{
	if (p->exited)
		return;
	p->exited = true;
	p->wstatus = wstatus;
	p->status_lost = lost;
	ev_timer_stop(p->ps->loop, &p->deadline);
	if (p->kill_at_exit && !p->killed) {
		(void)group_signal(p, SIGKILL);
		p->killed = true;
	}
	if (p->killed)
		reap(p);
	if (p->killed && ev_is_active(&p->killw))
		ev_timer_stop(p->ps->loop, &p->killw);
	if (p->freed) {
		retire_step(p);
		return;
	}
	check_done(p);
}

static void
pidfd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vd_proc *p = w->data;
	siginfo_t si;
	(void)revents;

	ev_io_stop(loop, w);
	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si,
		   WEXITED | WNOHANG | WNOWAIT) < 0 ||
	    si.si_pid == 0) {
		p->reaped = true; /* by someone else */
		leader_exited(p, 0, true);
	} else if (si.si_code == CLD_EXITED) {
		leader_exited(p, (si.si_status & 0xff) << 8, false);
	} else {
		leader_exited(p, si.si_status & 0x7f, false);
	}
}

static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct vd_proc *p = w->data;
	(void)revents;
	ev_child_stop(loop, w);
	p->reaped = true; /* libev's SIGCHLD handler reaped it */
	leader_exited(p, w->rstatus, false);
}

static void
kill_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vd_proc *p = w->data;
	(void)revents;

	if (!p->killed) {
		(void)group_signal(p, SIGKILL);
		p->killed = true;
		if (p->exited) {
			ev_timer_stop(loop, w);
			if (p->freed)
				retire_step(p);
			else
				reap(p);
		}
		return;
	}
	/* Repeats each second after the SIGKILL: should the status never
	 * come (someone else reaped the leader), a leader gone for two
	 * checks in a row still ends the wait. */
	if (!p->exited && kill(p->pid, 0) < 0 && errno == ESRCH &&
	    ++p->lost >= LOST_CHECKS) {
		ev_timer_stop(loop, w);
		p->reaped = true;
		leader_exited(p, 0, true);
	}
}

static void
terminate(struct vd_proc *p)
{
	if (p->term_sent || p->killed)
		return;
	p->term_sent = true;
	(void)group_signal(p, SIGTERM);
	ev_timer_set(&p->killw, p->grace > 0 ? p->grace : 0., 1.);
	ev_timer_start(p->ps->loop, &p->killw);
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vd_proc *p = w->data;
	(void)loop;
	(void)revents;
	p->timed_out = true;
	terminate(p);
}

static void
drain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vd_proc *p = w->data;
	int r;
	(void)loop;
	(void)revents;
	r = pipes_read(p); /* what came meanwhile, should its watcher wait */
	if (r < 0)
		return;
	p->output_open = r == 0;
	finish(p);
}

static void
pipe_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vd_proc *p = w->data;
	int i = w == &p->iow[0] ? 0 : 1, r;
	(void)loop;
	(void)revents;

	r = pipe_read(p, i);
	if (r > 0)
		check_done(p);
}

/* Moves fd to min or above (close-on-exec), so that the spawn's dup2s
 * never collide with it. Returns the fd, or -1 (fd closed). */
static int
fd_above(int fd, int min)
{
	int nfd;
	if (fd < 0 || fd >= min)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, min);
	close(fd);
	return nfd;
}

static void
close_pair(int fd[2])
{
	if (fd[0] >= 0)
		close(fd[0]);
	if (fd[1] >= 0)
		close(fd[1]);
	fd[0] = fd[1] = -1;
}

/* The program the barrier's shell execs: argv[0] as it is where the shell
 * finds the same file (a path, or a name searched in the same PATH), else
 * the path found. */
static const char *
barrier_prog(const char *arg0, const char *found, bool has_path)
{
	if (arg0[0] == '-')
		return found;
	if (strchr(arg0, '/') != NULL || has_path)
		return arg0;
	return found;
}

/* posix_spawn with our pipes and attributes; returns 0 or an errno. */
static int
do_spawn(const struct vd_proc_spec *spec, const char *found, char *const *envp,
	 int outw, int errw, int gor, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	char **argv = (char **)spec->argv, **bargv = NULL;
	const char *path = found;
	size_t argc = 0, i;
	int r;

	sigfillset(&all);
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outw, 1);
	posix_spawn_file_actions_adddup2(&fa, errw, 2);
	if (spec->barrier)
		posix_spawn_file_actions_adddup2(&fa, gor, 3);
	if (spec->cwd)
		posix_spawn_file_actions_addchdir_np(&fa, spec->cwd);
	posix_spawn_file_actions_addclosefrom_np(&fa, spec->barrier ? 4 : 3);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
						POSIX_SPAWN_SETSIGDEF |
						POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setsigmask(&attr, &none);
	if (spec->barrier) {
		bool has_path = false;
		for (i = 0; envp[i]; i++)
			has_path =
				has_path || strncmp(envp[i], "PATH=", 5) == 0;
		while (argv[argc])
			argc++;
		bargv = vd_xcalloc(argc + 5, sizeof(char *));
		bargv[0] = (char *)"sh";
		bargv[1] = (char *)"-c";
		bargv[2] = (char *)barrier_script;
		bargv[3] = argv[0]; /* $0 */
		bargv[4] = (char *)barrier_prog(argv[0], found, has_path);
		for (i = 1; i < argc; i++)
			bargv[4 + i] = argv[i];
		argv = bargv;
		path = "/bin/sh";
	}
	r = posix_spawn(pid, path, &fa, &attr, argv, envp);
	free(bargv);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return r;
}

/* Starts watching the child's exit; returns 0 or an errno value. */
static int
watch(struct vd_proc *p)
{
	struct ev_loop *loop = p->ps->loop;

	if (ev_is_default_loop(loop)) {
		ev_child_init(&p->childw, child_cb, p->pid, 0);
		p->childw.data = p;
		ev_child_start(loop, &p->childw);
		p->use_child = true;
		return 0;
	}
	p->pidfd = pidfd_open(p->pid, 0);
	if (p->pidfd < 0)
		return errno; /* close-on-exec already */
	ev_io_init(&p->pidw, pidfd_cb, p->pidfd, EV_READ);
	p->pidw.data = p;
	ev_io_start(loop, &p->pidw);
	return 0;
}

int
vd_proc_spawn(struct vd_procs *ps, const struct vd_proc_spec *spec,
	      struct vd_proc **out)
{
	static char *const no_env[] = {NULL};
	char *const *envp = spec->envp ? spec->envp
			    : environ  ? environ
				       : no_env;
	const char *path = NULL;
	int po[2] = {-1, -1}, pe[2] = {-1, -1}, go[2] = {-1, -1}, r, i;
	char *found = NULL;
	struct vd_proc *p;
	pid_t pid;

	*out = NULL;
	for (i = 0; envp[i]; i++)
		if (strncmp(envp[i], "PATH=", 5) == 0) {
			path = envp[i] + 5;
			break;
		}
	r = vd_proc_find_program(spec->argv[0], spec->cwd, path, &found);
	if (r != 0)
		return r;
	/* The child's ends stay blocking (programs expect that); ours are
	 * made non-blocking below. */
	if (pipe2(po, O_CLOEXEC) < 0 ||
	    (!spec->merge_output && pipe2(pe, O_CLOEXEC) < 0) ||
	    (spec->barrier &&
	     socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) < 0)) {
		r = errno;
		goto fail;
	}
	if ((po[1] = fd_above(po[1], 3)) < 0 ||
	    (pe[1] >= 0 && (pe[1] = fd_above(pe[1], 3)) < 0) ||
	    (go[0] >= 0 && (go[0] = fd_above(go[0], 4)) < 0)) {
		r = errno;
		goto fail;
	}
	r = do_spawn(spec, found, envp, po[1], pe[1] >= 0 ? pe[1] : po[1],
		     go[0], &pid);
	if (r != 0)
		goto fail;
	close(po[1]);
	po[1] = -1;
	if (pe[1] >= 0) {
		close(pe[1]);
		pe[1] = -1;
	}
	if (go[0] >= 0) {
		close(go[0]);
		go[0] = -1;
	}

	p = vd_xcalloc(1, sizeof(*p));
	p->ps = ps;
	p->pid = pid;
	p->pidfd = -1;
	p->go = go[1];
	p->grace = spec->grace;
	p->kill_at_exit = spec->kill_at_exit;
	p->on_output = spec->on_output;
	p->on_done = spec->on_done;
	p->udata = spec->udata;
	vd_buf_init(&p->out, spec->max_output);
	ev_timer_init(&p->deadline, deadline_cb, spec->timeout, 0.);
	p->deadline.data = p;
	ev_timer_init(&p->killw, kill_cb, 1., 1.);
	p->killw.data = p;
	ev_timer_init(&p->drainw, drain_cb, VD_PROC_DRAIN, 0.);
	p->drainw.data = p;
	ev_io_init(&p->pidw, pidfd_cb, -1, EV_READ);
	p->pidw.data = p;
	p->fd[0] = po[0];
	p->fd[1] = pe[0];
	LIST_INSERT_HEAD(&ps->procs, p, link);
	ps->n++;
	r = watch(p);
	if (r != 0) {
		/* SIGKILLed just now, never seen by a watcher: reap here */
		kill(-pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		p->reaped = p->exited = p->killed = true;
		destroy(p);
		free(found);
		return r;
	}
	for (i = 0; i < 2; i++) {
		if (p->fd[i] < 0)
			continue;
		vd_set_nonblock(p->fd[i]);
		ev_io_init(&p->iow[i], pipe_cb, p->fd[i], EV_READ);
		p->iow[i].data = p;
		ev_io_start(ps->loop, &p->iow[i]);
	}
	if (spec->timeout > 0)
		ev_timer_start(ps->loop, &p->deadline);
	free(found);
	*out = p;
	return 0;
fail:
	close_pair(po);
	close_pair(pe);
	close_pair(go);
	free(found);
	return r;
}

pid_t
vd_proc_pid(const struct vd_proc *p)
{
	return p->pid;
}

bool
vd_proc_exited(const struct vd_proc *p)
{
	return p->exited;
}

int
vd_proc_release(struct vd_proc *p)
{
	ssize_t n;
	int r = 0;

	if (p->go < 0)
		return 0;
	do
		n = send(p->go, "\n", 1, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		r = n < 0 ? errno : EIO;
	close(p->go);
	p->go = -1;
	return r;
}

void
vd_proc_terminate(struct vd_proc *p)
{
	if (p->exited && (p->killed || p->group_gone))
		return;
	terminate(p);
}

void
vd_proc_free(struct vd_proc *p)
{
	if (p == NULL || p->freed)
		return;
	if (p->depth > 0) {
		p->freed = true; /* retired when the callback returns */
		return;
	}
	retire(p);
}

void
vd_procs_free(struct vd_procs *ps)
{
	struct vd_proc *p;

	if (ps == NULL)
		return;
	while ((p = LIST_FIRST(&ps->procs)) != NULL) {
		/* destroy() unlinks p from the head before freeing it; the
		 * analyzer does not follow LIST_REMOVE's le_prev back to it */
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
		if (!p->killed)
			(void)group_signal(p, SIGKILL);
		if (!p->reaped && p->pidfd >= 0) {
			struct pollfd pfd = {.fd = p->pidfd, .events = POLLIN};
			if (poll(&pfd, 1, 2000) > 0)
				reap(p);
		} else if (!p->reaped) {
			int i, st;
			for (i = 0; i < 200; i++) {
				if (waitpid(p->pid, &st, WNOHANG) != 0)
					break;
				usleep(10000);
			}
		}
		destroy(p);
	}
	free(ps);
}
