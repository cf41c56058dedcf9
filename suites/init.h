/*
 * init.h - `verdict init URL [FILE]`: a starter suite of the checks that
 * pass against URL today. Depends on lib/app.h (declared only); init.c
 * uses the prober and the suite loader.
 */
#ifndef VD_INIT_H
#define VD_INIT_H

/* The command; argv[0] is "init". Returns 0 (suite written), 1 (nothing
 * passed, or the file could not be written: nothing left behind) or 2
 * (usage error, bad URL, FILE exists or its folder is not writable:
 * nothing probed) or 128 + N (stopped by signal N: nothing written).
 * Probes on app->loop. */
struct vd_app;
int vd_cmd_init(struct vd_app *app, int argc, char **argv);

#endif
