/*
 * app.h - what the composition root (verdict.c) hands every command: the
 * one libev loop it owns and the signals it watches. Commands and the
 * modules under them never create a loop, never run a nested one and
 * never install signal handlers: they receive the loop and say, through
 * on_signal, what a signal means to them. Depends on libev only.
 */
#ifndef VD_APP_H
#define VD_APP_H

#include <ev.h>

struct vd_app {
	struct ev_loop *loop;
	/*
	 * Set by the command (NULL: SIGINT and SIGTERM break the loop,
	 * SIGHUP is ignored). Called on the loop for SIGINT, SIGTERM and
	 * SIGHUP. The watchers do not keep the loop alive by themselves.
	 */
	void (*on_signal)(struct vd_app *app, int signum);
	void *ctx;  /* the command's, for on_signal */
	int signal; /* the last SIGINT/SIGTERM received, 0 none */
};

#endif
