/*
 * init.h - `verdict init URL [FILE]`: a starter suite of the checks that
 * pass against URL today. Depends on nothing; init.c uses the prober and
 * the suite loader.
 */
#ifndef VD_INIT_H
#define VD_INIT_H

/* The command; argv[0] is "init". Returns 0 (suite written), 1 (nothing
 * passed, or the file could not be written: nothing left behind) or 2
 * (usage error, bad URL, FILE exists or its folder is not writable:
 * nothing probed). */
int vd_cmd_init(int argc, char **argv);

#endif
