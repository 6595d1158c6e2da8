/*
 * main: the command line (SPEC section 1). Everything else is in
 * libcutover.a.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/config.h"
#include "cutover/log.h"
#include "cutover/route_explain.h"
#include "cutover/server.h"
#include "cutover/strbuf.h"
#include "config.h"

#define DEFAULT_CONFIG "/etc/cutover/cutover.yaml"

static void usage(FILE *out);
static struct config *load_or_report(const char *path, bool print_warnings);
static int cmd_explain(int argc, char **argv);

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: cutover [-c FILE]              run in the foreground\n"
	    "       cutover -t [-c FILE]           check the configuration\n"
	    "       cutover explain [-c FILE] [-H 'Name: value']... METHOD URL\n"
	    "       cutover -V | --version\n"
	    "       cutover -h | --help\n"
	    "\n"
	    "The default configuration file is " DEFAULT_CONFIG ".\n");
}

static struct config *
load_or_report(const char *path, bool print_warnings)
{
	struct config_diag d;
	struct config *cfg;

	config_diag_init(&d);
	cfg = config_load(path, &d);
	for (size_t i = 0; i < d.nerrors; i++)
		fprintf(stderr, "%s\n", d.errors[i]);
	if (print_warnings || cfg == NULL)
		for (size_t i = 0; i < d.nwarnings; i++)
			fprintf(stderr, "%s\n", d.warnings[i]);
	config_diag_free(&d);
	return cfg;
}

static int
cmd_explain(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG;
	const char **headers = xcalloc((size_t)argc, sizeof(*headers));
	size_t nheaders = 0;
	struct strbuf out;
	struct config *cfg;
	int opt, r;

	optind = 1;
	while ((opt = getopt(argc, argv, "+c:H:h")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'H':
			headers[nheaders++] = optarg;
			break;
		case 'h':
			usage(stdout);
			free(headers);
			return 0;
		default:
			usage(stderr);
			free(headers);
			return 1;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "cutover explain: need METHOD and URL\n");
		usage(stderr);
		free(headers);
		return 1;
	}
	cfg = load_or_report(path, false);
	if (cfg == NULL) {
		free(headers);
		return 1;
	}
	strbuf_init(&out);
	r = route_explain(cfg, argv[optind], argv[optind + 1],
	    (const char *const *)headers, nheaders, &out);
	fputs(out.s ? out.s : "", r == -1 ? stderr : stdout);
	strbuf_free(&out);
	config_unref(cfg);
	free(headers);
	return r == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG;
	bool test = false;
	struct config *cfg;
	int opt, status;
	const char *lvl = getenv("CUTOVER_LOG_LEVEL");

	if (lvl != NULL && strcmp(lvl, "debug") == 0)
		log_set_level(LOG_LEVEL_DEBUG);
	if (argc > 1 && strcmp(argv[1], "explain") == 0)
		return cmd_explain(argc - 1, argv + 1);

	while ((opt = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 't':
			test = true;
			break;
		case 'V':
			printf("cutover %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "cutover: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	cfg = load_or_report(path, true);
	if (cfg == NULL)
		return 1;
	if (test) {
		printf("configuration OK\n");
		config_unref(cfg);
		return 0;
	}
	status = server_run(cfg);
	config_unref(cfg);
	return status;
}
