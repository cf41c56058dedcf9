/*
 * dep_progress.h - what `verdict deploy` and `rollback` show on stderr
 * while they work (dep_progress.c). Shared only inside deployer/:
 * commands.c starts and ends the view, gate.c feeds it the gate's run.
 * Depends on probe/report.h (the progress modes) and libev.
 */
#ifndef VD_DEP_PROGRESS_H
#define VD_DEP_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "../probe/report.h"

/*
 * Starts the view of this process's deployment on stderr, titled title
 * ("deploy 1.4.2 to staging"). TTY: a live view in the terminal's bottom
 * rows (the phase, the gate's checks running with their attempts, the
 * elapsed time), redrawn from the default loop; the rows above become a
 * scroll region, so every other line on stderr (steps, hook output, a
 * gate's end) scrolls there untouched. A terminal too small for it gets
 * PLAIN. PLAIN and NONE draw nothing of their own: the deployer's lines
 * are the plain progress. A second call without vd_dep_progress_end()
 * is ignored.
 */
void vd_dep_progress_begin(enum vd_progress_mode mode, const char *title);
/* Erases the view and gives the terminal its whole screen back. No-op
 * without a view. */
void vd_dep_progress_end(void);
/* The mode in use (NONE without a view). */
enum vd_progress_mode vd_dep_progress_mode(void);
/* A gate ("health", "smoke", "verify") starts running nchecks checks. */
void vd_dep_progress_gate(const char *label, size_t nchecks);
/* One event of the gate's run (vd_run_progress_cb's). Names are masked. */
void vd_dep_progress_event(const struct vd_run_event *ev);
/* The gate ended with the verdict called verdict ("pass", "fail", ...). */
void vd_dep_progress_gate_end(const char *verdict);

#endif
