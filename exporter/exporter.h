/*
 * exporter.h - `verdict serve`: scheduled checks served as Prometheus
 * metrics on /metrics, a blackbox_exporter-compatible /probe, /healthz and
 * /-/reload, over an HTTP front of its own on the prober's libev loop. The
 * public face of exporter/; depends on probe/probe.h and suites/suite.h only.
 */
#ifndef VD_EXPORTER_H
#define VD_EXPORTER_H

/* Default listen address of `verdict serve` (loopback only). Not
 * blackbox_exporter's 9115, so that both can run side by side while
 * scrape configs move over. */
#define VD_SERVE_DEFAULT_LISTEN "127.0.0.1:9799"

/*
 * The `serve` command: argv[0] is "serve". Parses its options, loads the
 * config, serves until SIGTERM/SIGINT. Returns the process exit code:
 * 0 after a clean stop (or --help, --check-config on a valid file), 2 on
 * bad usage or an invalid config, 1 when the server could not start
 * (address in use, ...). Runs on app's loop; asks the app for SIGHUP
 * (reload), SIGTERM and SIGINT (stop).
 */
struct vd_app;
int vd_cmd_serve(struct vd_app *app, int argc, char **argv);

#endif
