/*
 * tls_opts.h - the TLS options a suite gives a TLS-speaking check or
 * request (the "tls" object), parsed by cfg.c and applied by the trust
 * store. Depends on nothing.
 */
#ifndef VD_TLS_OPTS_H
#define VD_TLS_OPTS_H

#include <stdbool.h>

struct vd_tls_opts {
	bool verify;	   /* default true */
	char *ca_file;	   /* NULL: system store */
	char *cert_file;   /* client certificate */
	char *key_file;	   /* client key */
	char *server_name; /* SNI / name to verify; NULL: from the target */
};

#endif
