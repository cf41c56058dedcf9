/*
 * exit.h - the process exit codes of every command, in one table (the
 * manual pages and docs/deploy.md list them). Depends on nothing.
 *
 * run, validate, serve: 0, 1, 2 (serve: 1 = could not start).
 * deploy, rollback, status: all of them (status: 9 = nothing known-good).
 * A signal that stopped a command: 128 + its number, as shells report.
 */
#ifndef VD_EXIT_H
#define VD_EXIT_H

enum {
	VD_EXIT_OK = 0,		     /* run: every critical check passed;
				      * deploy: promoted; rollback: verified */
	VD_EXIT_FAIL = 1,	     /* run: a critical check failed; serve:
				      * could not start; deploy: verdict could
				      * not work (state I/O) */
	VD_EXIT_USAGE = 2,	     /* usage or config error: nothing done */
	VD_EXIT_ROLLED_BACK = 3,     /* the gate failed; known-good restored */
	VD_EXIT_ROLLBACK_FAILED = 4, /* a human is needed */
	VD_EXIT_INCONCLUSIVE = 5,    /* the gate could not judge */
	VD_EXIT_LOCKED = 6,	     /* another deployment holds the lock */
	VD_EXIT_REFUSED = 7,	     /* pre-flight refused: nothing changed */
	VD_EXIT_INTERRUPTED = 8,     /* stopped by a signal / found
				      * interrupted */
	VD_EXIT_NONE_KNOWN = 9,	     /* status: nothing known-good yet */
	VD_EXIT_SIGNAL_BASE = 128,   /* + the signal's number */
};

#endif
