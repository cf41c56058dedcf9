/*
 * deployer.h - the deployer's public face: `verdict deploy`, `rollback`,
 * `history` and `status`, and the name rules that guard
 * argv, URLs and file names. Depends on libc and lib/app.h (the loop and
 * the signals the composition root hands a command); consumes the prober
 * through probe/probe.h and suites through suites/suite.h.
 */
#ifndef VD_DEPLOYER_H
#define VD_DEPLOYER_H

#include <stdbool.h>

#include "../lib/app.h"

/* Exit codes: lib/exit.h (docs/deploy.md has the table). */

/* The commands; argv[0] is the command name. Return an exit code.
 * deploy and rollback run on app->loop and set app->on_signal while they
 * run (SIGINT, SIGTERM and SIGHUP stop a deployment cleanly). */
int vd_cmd_deploy(struct vd_app *app, int argc, char **argv);
int vd_cmd_rollback(struct vd_app *app, int argc, char **argv);
int vd_cmd_history(struct vd_app *app, int argc, char **argv);
int vd_cmd_status(struct vd_app *app, int argc, char **argv);

/*
 * True if s may be used as a version or an environment name: 1-128 bytes
 * of [A-Za-z0-9._+-], not starting with '-' or '.', without "..". Such a
 * name is safe in argv, in a URL path and in a file name.
 */
bool vd_dep_name_ok(const char *s);

#endif
