/*
 * check_schema.c - the editors' JSON Schema (suites/suite.schema.json,
 * read from the source tree: run from its top, as make does) holds the
 * same facts as the check-type table: one entry per registered type with
 * exactly the common keys, "tls" for VD_TYPE_TLS types and the type's own
 * keys (but those the table only takes to refuse); "defaults" takes every one
 * of them but name and type; each required key is required (in the check or in
 * defaults) of exactly the types that flag it. test_schema.sh holds the
 * schema's answers to `verdict validate`'s on a corpus of suite files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../lib/util.h"
#include "../../probe/probe.h"
#include "unit.h"

#define SCHEMA_PATH "suites/suite.schema.json"

static cJSON *
load_schema(void)
{
	struct vd_buf b;
	char err[512];
	cJSON *j;

	ck_assert_msg(
		vd_read_file(SCHEMA_PATH, 1u << 20, &b, err, sizeof(err)) == 0,
		"%s (run from the top of the source tree)", err);
	j = cJSON_ParseWithLength(b.data, b.len);
	vd_buf_free(&b);
	ck_assert_ptr_nonnull(j);
	return j;
}

static const cJSON *
at(const cJSON *j, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, a);
	if (v && b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return v;
}

static bool
in_list(const cJSON *arr, const char *s)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr) {
		if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
			return true;
	}
	return false;
}

START_TEST(test_types_and_keys)
{
	cJSON *s = load_schema();
	const cJSON *defs = at(s, "definitions", NULL);
	const cJSON *dflt =
		at(at(s, "properties", "defaults"), "properties", NULL);
	const cJSON *types = at(at(defs, "check", "properties"), "type", NULL);
	size_t i, n = 0;

	ck_assert_ptr_nonnull(defs);
	ck_assert_ptr_nonnull(dflt);
	types = at(types, "enum", NULL);
	for (i = 0; vd_check_types[i]; i++) {
		const struct vd_check_type *t = vd_check_types[i];
		const struct vd_check_key *k;
		const cJSON *props, *it;
		char def[80];

		n++;
		ck_assert_msg(in_list(types, t->name),
			      "check.type lacks \"%s\"", t->name);
		snprintf(def, sizeof(def), "check_%s", t->name);
		props = at(at(defs, def, NULL), "properties", NULL);
		ck_assert_msg(props != NULL, "no definitions.%s", def);
		/* every key of the table is in the schema ... */
		for (k = t->keys; k && k->name; k++) {
			if (k->flags & VD_KEY_REFUSED) {
				ck_assert_msg(at(props, k->name, NULL) == NULL,
					      "%s.properties has \"%s\", "
					      "which the table refuses",
					      def, k->name);
				continue;
			}
			ck_assert_msg(at(props, k->name, NULL) != NULL,
				      "%s.properties lacks \"%s\"", def,
				      k->name);
			ck_assert_msg(at(dflt, k->name, NULL) != NULL,
				      "defaults lacks \"%s\" (%s)", k->name,
				      t->name);
		}
		for (size_t j = 0; vd_check_common_keys[j]; j++)
			ck_assert_msg(at(props, vd_check_common_keys[j],
					 NULL) != NULL,
				      "%s.properties lacks \"%s\"", def,
				      vd_check_common_keys[j]);
		/* ... and the schema has no key the table lacks */
		cJSON_ArrayForEach(it, props) {
			ck_assert_msg(vd_check_type_has_key(t, it->string),
				      "%s.properties.%s: not in the table", def,
				      it->string);
		}
	}
	ck_assert_int_eq(cJSON_GetArraySize(types), (int)n);
	/* defaults: every common key but what a check is */
	for (i = 0; vd_check_common_keys[i]; i++) {
		const char *k = vd_check_common_keys[i];
		bool want = strcmp(k, "name") != 0 && strcmp(k, "type") != 0;
		ck_assert_msg((at(dflt, k, NULL) != NULL) == want,
			      "defaults.%s", k);
	}
	cJSON_Delete(s);
}
END_TEST

/* The types of which the schema requires key (the root's "allOf" entry
 * that names key alone), or NULL. */
static const cJSON *
required_of(const cJSON *s, const char *key)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, at(s, "allOf", NULL)) {
		const cJSON *req =
			at(at(at(c, "if", "properties"), "defaults", NULL),
			   "required", NULL);
		const cJSON *items =
			at(at(at(c, "else", "properties"), "checks", NULL),
			   "items", NULL);
		if (cJSON_GetArraySize(req) == 1 && in_list(req, key))
			return at(
				at(at(items, "if", "properties"), "type", NULL),
				"enum", NULL);
	}
	return NULL;
}

START_TEST(test_required)
{
	cJSON *s = load_schema();
	size_t i;

	for (i = 0; vd_check_types[i]; i++) {
		const struct vd_check_type *t = vd_check_types[i];
		const struct vd_check_key *k;
		for (k = t->keys; k && k->name; k++) {
			const cJSON *of = required_of(s, k->name);
			bool req = (k->flags & VD_KEY_REQUIRED) != 0;
			ck_assert_msg(in_list(of, t->name) == req,
				      "%s.%s: the schema %s it", t->name,
				      k->name,
				      req ? "does not require" : "requires");
		}
	}
	cJSON_Delete(s);
}
END_TEST

Suite *
schema_suite(void)
{
	Suite *s = suite_create("schema");
	TCase *tc = tcase_create("schema");
	tcase_add_test(tc, test_types_and_keys);
	tcase_add_test(tc, test_required);
	suite_add_tcase(s, tc);
	return s;
}
