/*
 * registry.c - the one table of check types, and the keys every check
 * has. Adding a type: one file in probe/checks/, one line in checks.h,
 * one line here. Knows nothing of suites, reports or the exporter.
 */
#include <string.h>

#include "checks.h"

const struct vd_check_type *const vd_check_types[] = {
	&vd_check_http,
	&vd_check_tls,
	&vd_check_tcp,
	&vd_check_security_headers,
	&vd_check_cors,
	&vd_check_postgres,
	&vd_check_redis,
	&vd_check_env_file,
	&vd_check_json_file,
	&vd_check_exec,
	&vd_check_dns,
	&vd_check_flow, /* one type a line: keeps merges clean */
	NULL,
};

/* Taken by the loader (suites/suite.c) before the type's parse runs. */
const char *const vd_check_common_keys[] = {
	"name",	   "type",    "stage",	  "critical", "description", "tags",
	"timeout", "retries", "retry_on", "interval", "every",	     NULL,
};

const char *
vd_check_type_target_key(const struct vd_check_type *t)
{
	const struct vd_check_key *k;
	for (k = t->keys; k && k->name; k++)
		if (k->flags & VD_KEY_TARGET)
			return k->name;
	return NULL;
}

bool
vd_check_type_has_key(const struct vd_check_type *t, const char *key)
{
	const struct vd_check_key *k;
	size_t i;

	/* a type without a key table takes what its parse takes */
	if (t->keys == NULL)
		return true;
	for (i = 0; vd_check_common_keys[i]; i++)
		if (strcmp(vd_check_common_keys[i], key) == 0)
			return true;
	if ((t->flags & VD_TYPE_TLS) && strcmp(key, "tls") == 0)
		return true;
	for (k = t->keys; k && k->name; k++)
		if (strcmp(k->name, key) == 0)
			return true;
	return false;
}
