/*
 * err.h - the project's error codes, shared by every module. Depends on
 * nothing.
 */
#ifndef VD_ERR_H
#define VD_ERR_H

/* Error codes: 0 is success, every failure is negative. */
enum {
	VD_OK = 0,
	VD_ERR_CONFIG = -1, /* a suite/config file is invalid */
	VD_ERR_IO = -2,	    /* a file could not be read or written */
	VD_ERR_SYSTEM = -3, /* a system call failed (see errno) */
	VD_ERR_USAGE = -4,  /* bad command line */
};

/* Returns a static string for a VD_ERR_* code. */
const char *vd_strerror(int err);

#endif
