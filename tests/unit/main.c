/* main.c - runs every unit-test suite (Check). Exit 0 when all pass. */
#include <stdlib.h>

#include "unit.h"

int
main(void)
{
	SRunner *sr = srunner_create(util_suite());
	int failed;

	/* one line per suite */
	srunner_add_suite(sr, cfg_suite());
	srunner_add_suite(sr, suite_suite());
	srunner_add_suite(sr, report_suite());
	srunner_add_suite(sr, engine_suite());
	srunner_add_suite(sr, exec_suite());
	srunner_add_suite(sr, metrics_suite());
	srunner_add_suite(sr, resolve_suite());
	srunner_add_suite(sr, deployer_suite());
	srunner_add_suite(sr, match_suite());
	srunner_add_suite(sr, peer_suite());
	srunner_add_suite(sr, schema_suite());
	srunner_add_suite(sr, trust_suite());
	srunner_add_suite(sr, flow_suite());
	srunner_add_suite(sr, proc_suite());
	/* Forked (Check's default, unless CK_FORK=no): each test runs in
	 * its own process, so tcase_set_timeout() holds and a failed
	 * assertion leaves nothing (watchers, memory) to the next test. */
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
