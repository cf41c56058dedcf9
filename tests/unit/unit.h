/* unit.h - the Check suites of the unit tests; main.c runs them all.
 * Adding a suite: tests/unit/check_<module>.c exporting one
 * Suite *<module>_suite(void), one line here, one line in main.c. */
#ifndef VD_UNIT_H
#define VD_UNIT_H

#include <check.h>

Suite *util_suite(void);
Suite *cfg_suite(void);
Suite *suite_suite(void);
Suite *report_suite(void);
Suite *engine_suite(void);
Suite *exec_suite(void);
Suite *metrics_suite(void);
Suite *resolve_suite(void);
Suite *deployer_suite(void);
Suite *match_suite(void);
Suite *peer_suite(void);
Suite *schema_suite(void);
Suite *trust_suite(void);
Suite *flow_suite(void);
Suite *proc_suite(void);

#endif
