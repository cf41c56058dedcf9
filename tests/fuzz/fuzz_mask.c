/*
 * fuzz_mask.c - libFuzzer target: secret masking on what a target or a
 * suite can hand it. The first byte picks the input's role:
 *   0  a URL: vd_mask_url must hide the password libcurl finds in it and
 *      the value of every query parameter whose name looks secret;
 *   1  an Authorization value: once registered, it, its credentials and
 *      (Basic) the password they decode to are masked wherever they occur;
 *   2  text with the input's first line registered as a secret: masked
 *      text never holds the secret, cut or whole (vd_mask_brief).
 * Strings holding '*' are not checked for absence ("***" can rebuild
 * them). Built by `make fuzz` only; depends on probe/ and libcurl.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "../../lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* s must not occur in text (when it is long enough to be registered). */
static void
absent(const char *text, const char *s)
{
	if (s == NULL || strlen(s) < VD_SECRET_MIN || strchr(s, '*'))
		return;
	if (strstr(text, s)) {
		fprintf(stderr, "\"%s\" shows in \"%s\"\n", s, text);
		abort();
	}
}

static void
url_role(const char *url)
{
	char *m = vd_mask_url(url), *pw = NULL, *q = NULL;
	CURLU *u = curl_url();

	if (u == NULL)
		abort();
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) ==
	    CURLUE_OK) {
		if (curl_url_get(u, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK)
			absent(m, pw);
		if (curl_url_get(u, CURLUPART_QUERY, &q, 0) == CURLUE_OK) {
			char *save = NULL, *kv;
			for (kv = strtok_r(q, "&", &save); kv;
			     kv = strtok_r(NULL, "&", &save)) {
				char *eq = strchr(kv, '=');
				if (eq && vd_query_name_is_secret(
						  kv, (size_t)(eq - kv)))
					absent(m, eq + 1);
			}
		}
	}
	curl_free(pw);
	curl_free(q);
	curl_url_cleanup(u);
	free(m);
}

static void
auth_role(const char *v)
{
	char *m;
	vd_secret_add_authorization(v);
	m = vd_mask(v);
	absent(m, v);
	free(m);
}

static void
text_role(const char *s)
{
	const char *nl = strchr(s, '\n');
	char *secret, *m;
	size_t cut;

	if (nl == NULL)
		return;
	secret = strndup(s, (size_t)(nl - s));
	vd_secret_add(secret);
	m = vd_mask(nl + 1);
	absent(m, secret);
	free(m);
	cut = strlen(nl + 1) / 2;
	m = vd_mask_brief(nl + 1, cut);
	absent(m, secret);
	if (strlen(m) > cut + 3)
		abort();
	free(m);
	free(secret);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	if (size == 0)
		return 0;
	s = strndup((const char *)data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		url_role(s);
		break;
	case 1:
		auth_role(s);
		break;
	default:
		text_role(s);
		break;
	}
	vd_secret_clear();
	free(s);
	return 0;
}
