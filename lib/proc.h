/*
 * proc.h - the one child-process supervisor: spawns a command with
 * posix_spawn (never fork: verdict has worker threads) in its own process
 * group, optionally held at a start barrier, reads its stdout and stderr on
 * the caller's libev loop into a capped buffer, watches its exit, and ends
 * the whole group with SIGTERM, a grace, then SIGKILL. Also the one
 * environment builder for children. Used by the exec check and the deploy
 * hooks. Depends on libc, libev and util.h only; Linux (pidfd, 5.3+).
 *
 * Watching the exit. libev's default loop reaps every child of the process
 * (waitpid(-1) on SIGCHLD), so there the only way to learn the status is an
 * ev_child watcher; on any other loop the child is watched through a pidfd
 * on an ev_io and its status taken with waitid(P_PIDFD, WNOWAIT), leaving
 * the leader a zombie until the supervisor is done with its group.
 *
 * The pgid-reuse race, and its one answer. A process group id is the
 * leader's pid; the kernel keeps it from being reused while any process
 * is in the group, a zombie leader included. The supervisor signals -pgid
 * (1) freely while the leader is not reaped (the pidfd path keeps it a
 * zombie until the group has had its SIGKILL), and (2) once it is reaped
 * (the ev_child path) only if no process has pid == pgid: after the
 * leader is gone, a process with that pid means the number was reused,
 * and only such a process could have made a new group with that id. What
 * remains is the time between that test and kill() - a fork and a setpgid
 * of a new process landing on that exact pid - which is accepted.
 */
#ifndef VD_PROC_H
#define VD_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <ev.h>

#include "util.h"

/* --- environments ------------------------------------------------------ */

/* A child's environment: NULL-terminated "NAME=value" strings in v. */
struct vd_env {
	char **v;
	size_t n, cap;
};

/* Starts from a copy of the process's environment (inherit) or from
 * nothing. */
void vd_env_init(struct vd_env *e, bool inherit);
/* Sets name to value, replacing an earlier value (which moves to the
 * end). name must not be empty nor hold '='. */
void vd_env_set(struct vd_env *e, const char *name, const char *value);
void vd_env_unset(struct vd_env *e, const char *name);
/* The value of name, or NULL. */
const char *vd_env_get(const struct vd_env *e, const char *name);
/* Wipes every string (values may be secrets) and frees them. */
void vd_env_free(struct vd_env *e);

/*
 * Looks prog up as execvp would: a name holding '/' is taken as it is
 * (relative to cwd), any other is searched in path (a PATH value; NULL
 * means "/bin:/usr/bin"; empty and relative entries are relative to cwd).
 * cwd NULL means the current directory. Returns 0 and *out (the caller
 * frees: a path that names the program once the child is in cwd), or an
 * errno value: ENOENT (nowhere), EACCES (found, not executable), ENOTDIR.
 */
int vd_proc_find_program(const char *prog, const char *cwd, const char *path,
			 char **out);

/* --- the supervisor ---------------------------------------------------- */

/* Every child started on one loop. */
struct vd_procs;
/* One child and its process group. */
struct vd_proc;

enum vd_proc_stream {
	VD_PROC_STDOUT = 0,
	VD_PROC_STDERR = 1,
};

/* What became of a child, handed to on_done. */
struct vd_proc_result {
	pid_t pid;	  /* also the process group id */
	bool exited;	  /* exit_code holds the leader's exit code */
	int exit_code;	  /* 0-255, or -1 */
	int signal;	  /* the signal that ended the leader, or 0 */
	bool status_lost; /* someone else reaped it: nothing is known */
	bool timed_out;	  /* spec.timeout ended it (the group was killed) */
	bool output_open; /* a pipe was still open VD_PROC_DRAIN seconds
			     after the exit (a background process) */
	const struct vd_buf *output; /* what was kept, capped at max_output
					(output->truncated) */
	size_t output_bytes;	     /* bytes read in all */
};

/* Seconds to wait, after the leader exited, for its pipes to end. */
#define VD_PROC_DRAIN 0.25

struct vd_proc_spec {
	char *const *argv; /* NULL-terminated; argv[0] found with
			      vd_proc_find_program() in the PATH of envp */
	char *const *envp; /* NULL: the process's environment */
	const char *cwd;   /* NULL: verdict's */
	bool merge_output; /* stderr into stdout's pipe: one stream, in the
			      order written (reported as VD_PROC_STDOUT) */
	size_t max_output; /* bytes kept in the result; 0 keeps none. The
			      pipes are read to their end whatever the cap */
	double timeout;	   /* seconds until the group is terminated; 0:
			      none (the caller ends it) */
	double grace;	   /* seconds between SIGTERM and SIGKILL */
	bool kill_at_exit; /* SIGKILL what is left of the group as soon as
			      the leader exits */
	bool barrier;	   /* the child waits before exec until
			      vd_proc_release() (see vd_proc_spawn) */
	/* Every piece of output as it is read (may be NULL). */
	void (*on_output)(void *udata, enum vd_proc_stream s, const char *p,
			  size_t n);
	/* Once, when the leader's status is known and its output has ended
	 * (or VD_PROC_DRAIN passed). res lives until the callback returns.
	 * May call vd_proc_free(). */
	void (*on_done)(void *udata, const struct vd_proc_result *res);
	void *udata;
};

/* A supervisor on loop. Never NULL. */
struct vd_procs *vd_procs_new(struct ev_loop *loop);
/*
 * SIGKILLs every group still known and reaps its leader, waiting up to
 * two seconds per child (one stuck in the kernel is left to init); no
 * callback is called. Blocks: for shutdown only. NULL does nothing.
 */
void vd_procs_free(struct vd_procs *ps);
/* Children not yet reaped and freed (for tests and soaks). */
size_t vd_procs_count(const struct vd_procs *ps);

/*
 * Starts spec->argv with stdin from /dev/null, stdout and stderr into
 * pipes, in a new process group (pgid = pid), every signal at its default
 * and none blocked, and no descriptor of verdict's but 0-2. With
 * spec->barrier the child is /bin/sh waiting on a pipe, and execs the
 * command only at vd_proc_release(): its pid (and its start time) are
 * those the command will have, so the caller can record them first; if
 * the pipe closes unreleased (vd_proc_free(), or verdict dies) the child
 * exits 127 without running anything. spec is copied (strings included).
 * Returns 0 and *out, or an errno value (nothing started): ENOENT,
 * EACCES, ENOTDIR from the program lookup or the chdir to cwd, others
 * from pipe2() or posix_spawn().
 */
int vd_proc_spawn(struct vd_procs *ps, const struct vd_proc_spec *spec,
		  struct vd_proc **out);
pid_t vd_proc_pid(const struct vd_proc *p);
/* True once the leader's exit is known. */
bool vd_proc_exited(const struct vd_proc *p);
/* Lets a child held at the barrier exec. Returns 0 or an errno value. */
int vd_proc_release(struct vd_proc *p);
/* SIGTERM to the group now, SIGKILL after the grace; on_done follows when
 * the leader is gone. Again does nothing. */
void vd_proc_terminate(struct vd_proc *p);
/*
 * The caller is done: no callback is called again. A group that may still
 * have members gets SIGTERM, then SIGKILL after the grace, and the leader
 * is reaped, all in the background on the loop. NULL does nothing.
 */
void vd_proc_free(struct vd_proc *p);

#endif
