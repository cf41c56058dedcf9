/*
 * pq_ev.h - libpq on the prober's libev loop, as hiredis' libev adapter
 * is for Redis: one PostgreSQL connection started, logged in and queried
 * without ever blocking the loop. Knows nothing of check types, suites or
 * reports; depends on libpq, libev and the prober's worker pool and shared
 * state (probe_int.h) only. Internal to probe/.
 *
 * - Every PQconnectPoll step runs on a small per-prober pool of threads
 *   (the login: SCRAM's key derivation and the TLS handshake are
 *   milliseconds of CPU each); only one thread touches the PGconn at a
 *   time, and the answer comes back from the loop.
 * - libpq may change its socket between PQconnectPoll calls: the watcher
 *   is re-armed on PQsocket() after every step.
 * - libpq ignores connect_timeout in non-blocking mode: the owner keeps
 *   the deadline and frees the connection when it passes.
 * - A query still running when the connection is freed is cancelled on
 *   the server by a short-lived thread (PQcancel opens a connection and
 *   blocks), which freeing the prober waits for, briefly.
 */
#ifndef VD_PQ_EV_H
#define VD_PQ_EV_H

#include <stdbool.h>

#include <libpq-fe.h>

struct vd_prober;
struct vd_pq_ev;

/* Why a connection stopped (the owner words the reason). */
enum vd_pq_ev_err {
	VD_PQ_EV_OOM,	   /* libpq could not allocate the connection */
	VD_PQ_EV_CONNECT,  /* the login failed: PQerrorMessage() says why */
	VD_PQ_EV_NONBLOCK, /* PQsetnonblocking failed after the login */
	VD_PQ_EV_LOST,	   /* libpq has no socket any more */
	VD_PQ_EV_SEND,	   /* PQsendQuery failed: PQerrorMessage() */
	VD_PQ_EV_FLUSH,	   /* the connection broke sending the query */
	VD_PQ_EV_CONSUME,  /* it broke reading results: PQerrorMessage() */
};

/*
 * What the owner hears, from the loop; failed() also from inside
 * vd_pq_ev_connect() (a connection that cannot start) and vd_pq_ev_send()
 * (a query that cannot be sent), never from vd_pq_ev_free(). Each
 * callback MAY end the owner's work (the owner frees the connection
 * later, from a clean stack); the adapter asks live() before every step
 * and does nothing more once it says false.
 */
struct vd_pq_ev_cbs {
	/* false once the owner has ended: nothing more is done or said. */
	bool (*live)(void *udata);
	/* The login finished; the connection is non-blocking. The owner
	 * MAY send a query (or end). */
	void (*connected)(struct vd_pq_ev *c, void *udata);
	/* One result of the query (the adapter's: valid during the call,
	 * never cleared by the owner). Returns
	 * false to stop reading (the owner has ended). */
	bool (*result)(struct vd_pq_ev *c, PGresult *res, void *udata);
	/* The query string has ended: every result was read. The owner MAY
	 * send another query. */
	void (*query_done)(struct vd_pq_ev *c, void *udata);
	/* The connection failed; nothing more comes. PQerrorMessage() of
	 * vd_pq_ev_conn() says why for CONNECT, SEND and CONSUME. */
	void (*failed)(struct vd_pq_ev *c, enum vd_pq_ev_err err, void *udata);
};

/*
 * Starts connecting with libpq's keywords and values (NULL-terminated
 * lists, copied by libpq; hostaddr given, so no name is resolved here).
 * Never returns NULL; a failure to start is reported through failed()
 * before it returns. cbs must outlive the connection.
 */
struct vd_pq_ev *vd_pq_ev_connect(struct vd_prober *p, const char *const *keys,
				  const char *const *vals,
				  const struct vd_pq_ev_cbs *cbs, void *udata);
/* Sends sql (after connected() or query_done()); single_row: libpq's
 * single-row mode, so a large result is read as it arrives. Errors come
 * through failed(). */
void vd_pq_ev_send(struct vd_pq_ev *c, const char *sql, bool single_row);
/* The PGconn, for PQerrorMessage, PQparameterStatus and the like; NULL
 * while a worker thread polls it. */
PGconn *vd_pq_ev_conn(const struct vd_pq_ev *c);
/* Stops watching, cancels a running query on the server (off the loop),
 * and finishes the PGconn (or leaves it to the worker polling it). NULL
 * does nothing. Never from inside one of c's callbacks. */
void vd_pq_ev_free(struct vd_pq_ev *c);

#endif
