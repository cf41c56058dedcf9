/*
 * json.c - the JSON report: the contract other tools (and the deployer)
 * consume. Documented in README.md ("The JSON report"); extend, never
 * rename.
 */
#include <math.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "../report.h"
#include "../../lib/util.h"

/* Names, stages, targets and tags may hold an interpolated secret:
 * masked here, before cJSON escapes them. */
static cJSON *
add_str(cJSON *o, const char *k, const char *v)
{
	char *m = vd_mask(v ? v : "");
	cJSON *it = cJSON_AddStringToObject(o, k, m);
	free(m);
	return it;
}

static void
add_num(cJSON *o, const char *k, double v)
{
	/* 6 decimals: microseconds are plenty, and the output stays short */
	cJSON_AddNumberToObject(o, k, round(v * 1e6) / 1e6);
}

static cJSON *
check_json(const struct vd_check *chk, const struct vd_result *res)
{
	cJSON *o = cJSON_CreateObject(), *t, *f, *tags;
	size_t i;
	int ph;

	add_str(o, "name", chk->name);
	cJSON_AddStringToObject(o, "type", chk->type->name);
	add_str(o, "target", chk->target);
	add_str(o, "stage", chk->stage);
	cJSON_AddStringToObject(o, "status", vd_status_name(res->status));
	cJSON_AddBoolToObject(o, "critical", chk->critical);
	cJSON_AddStringToObject(o, "reason", res->reason ? res->reason : "");
	cJSON_AddStringToObject(o, "reason_kind",
				vd_reason_name(res->reason_kind));
	cJSON_AddNumberToObject(o, "attempts", res->attempts);
	add_num(o, "started", res->started);
	add_num(o, "duration_seconds", res->duration);
	t = cJSON_AddObjectToObject(o, "timings");
	for (ph = 0; ph < VD_PHASE_COUNT; ph++)
		if (res->timings[ph] >= 0)
			add_num(t, vd_phase_name((enum vd_phase)ph),
				res->timings[ph]);
	tags = cJSON_AddArrayToObject(o, "tags");
	for (i = 0; i < chk->ntags; i++) {
		char *m = vd_mask(chk->tags[i]);
		cJSON_AddItemToArray(tags, cJSON_CreateString(m));
		free(m);
	}
	f = cJSON_AddObjectToObject(o, "facts");
	for (i = 0; i < res->nfacts; i++) {
		const struct vd_fact *fa = &res->facts[i];
		switch (fa->kind) {
		case VD_FACT_STR:
			cJSON_AddStringToObject(f, fa->key, fa->str);
			break;
		case VD_FACT_NUM:
			cJSON_AddNumberToObject(f, fa->key, fa->num);
			break;
		case VD_FACT_BOOL:
			cJSON_AddBoolToObject(f, fa->key, fa->b);
			break;
		}
	}
	if (res->nsteps) {
		cJSON *steps = cJSON_AddArrayToObject(o, "steps");
		for (i = 0; i < res->nsteps; i++) {
			const struct vd_step *s = &res->steps[i];
			cJSON *so = cJSON_CreateObject();
			cJSON_AddStringToObject(so, "name", s->name);
			cJSON_AddStringToObject(so, "status",
						vd_status_name(s->status));
			if (s->http_status > 0)
				cJSON_AddNumberToObject(so, "http_status",
							(double)s->http_status);
			cJSON_AddStringToObject(so, "reason", s->reason);
			t = cJSON_AddObjectToObject(so, "timings");
			for (ph = 0; ph < VD_PHASE_COUNT; ph++)
				if (s->timings[ph] >= 0)
					add_num(t,
						vd_phase_name(
							(enum vd_phase)ph),
						s->timings[ph]);
			cJSON_AddItemToArray(steps, so);
		}
	}
	return o;
}

cJSON *
vd_report_json_tree(const struct vd_report_in *in)
{
	const struct vd_run_summary *sum = in->sum;
	cJSON *root = cJSON_CreateObject(), *checks, *counts;
	size_t i, n[4] = {0, 0, 0, 0};

	add_str(root, "suite", in->suite);
	cJSON_AddStringToObject(root, "verdict", sum->passed ? "pass" : "fail");
	cJSON_AddStringToObject(root, "version", VD_VERSION);
	add_num(root, "started", sum->started);
	add_num(root, "duration_seconds", sum->duration);
	checks = cJSON_AddArrayToObject(root, "checks");
	for (i = 0; i < sum->n; i++) {
		cJSON_AddItemToArray(
			checks, check_json(sum->checks[i], &sum->results[i]));
		n[sum->results[i].status]++;
	}
	counts = cJSON_AddObjectToObject(root, "counts");
	cJSON_AddNumberToObject(counts, "pass", (double)n[VD_STATUS_PASS]);
	cJSON_AddNumberToObject(counts, "fail", (double)n[VD_STATUS_FAIL]);
	cJSON_AddNumberToObject(counts, "error", (double)n[VD_STATUS_ERROR]);
	cJSON_AddNumberToObject(counts, "skipped",
				(double)n[VD_STATUS_SKIPPED]);
	return root;
}

static int
json_write(FILE *f, const struct vd_report_in *in)
{
	cJSON *root = vd_report_json_tree(in);
	char *s = cJSON_Print(root);
	int r = 0;

	cJSON_Delete(root);
	if (s == NULL)
		abort();
	if (fputs(s, f) == EOF || fputc('\n', f) == EOF)
		r = VD_ERR_IO;
	free(s);
	return r;
}

const struct vd_report_writer vd_report_json = {
	.name = "json",
	.write = json_write,
};
