/*
 * curl_ev.h - libcurl's multi interface driven by a libev loop (libcurl's
 * evhiperfifo pattern): the one copy of that glue, used by the prober
 * (curl_glue.c) and the deployer. Depends on libcurl and libev only.
 */
#ifndef VD_CURL_EV_H
#define VD_CURL_EV_H

#include <curl/curl.h>
#include <ev.h>

struct vd_curl_ev;

/* Called once when a transfer added with vd_curl_ev_add() completes, with
 * libcurl's result. Runs from the loop, outside libcurl's callbacks: the
 * callee may remove and clean up the easy handle. */
typedef void vd_curl_ev_done_cb(CURL *easy, CURLcode code, void *udata);

/* A curl multi handle driven by loop; aborts when libcurl cannot make one.
 * libcurl's timeouts (ms) become ev_timer seconds as ms / 1000.0; a 0 ms
 * timeout arms a zero-delay timer (never socket_action from inside
 * libcurl's timer callback). */
struct vd_curl_ev *vd_curl_ev_new(struct ev_loop *loop);
/* Stops the watchers and cleans up the multi handle; remove transfers
 * first (their callbacks never run). NULL does nothing. */
void vd_curl_ev_free(struct vd_curl_ev *ev);
/* The multi handle, for CURLMOPT_* options only: add and remove transfers
 * with the functions below. */
CURLM *vd_curl_ev_multi(struct vd_curl_ev *ev);
/* Starts a transfer (takes easy's CURLOPT_PRIVATE). Returns 0, or
 * VD_ERR_SYSTEM (probe.h) when libcurl refuses it: cb is then never
 * called. */
int vd_curl_ev_add(struct vd_curl_ev *ev, CURL *easy, vd_curl_ev_done_cb *cb,
		   void *udata);
/* Stops a transfer without calling its callback. Safe for a handle that
 * is already done or was refused. Does not clean up the easy handle. */
void vd_curl_ev_remove(struct vd_curl_ev *ev, CURL *easy);

#endif
