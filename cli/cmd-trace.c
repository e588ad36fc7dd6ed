/*
 * cli/cmd-trace.c: motrace's main job: trace live traffic between kernels
 * and a manager, through the interposing proxy.
 *
 *   motrace [OPTIONS] --listen ADDR --to ADDR [--listen ADDR --to ADDR]...
 *   motrace [OPTIONS] -- PAGER [ARGS...]
 *   motrace [OPTIONS] [--observe] -p PID|unix:PATH [-p ...]
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <mach/motrace.h>

#include "cli/batch.h"
#include "cli/cmd.h"
#include "cli/common.h"
#include "cli/handoff.h"
#include "cli/recording.h"
#include "cli/repl.h"
#include "cli/spawn.h"
#include "cli/ui/tui.h"
#include "cli/trace-opts.h"
#include "plugins/loader.h"
#include "tracer/attach.h"
#include "tracer/proxy.h"

static const char trace_usage[] =
	"[OPTIONS] --listen ADDR --to ADDR | [OPTIONS] -- PAGER [ARGS...] |\n"
	"       [OPTIONS] [--observe] -p PID|unix:PATH...";

static volatile sig_atomic_t stop_signal;

#define OBSERVE_NO_RULES \
	"rules and breakpoints need the messages in motrace's hands, and with --observe motrace only gets copies of messages the pager has delivered already: attach without --observe"


static void on_signal(int sig)
{
	stop_signal = sig;
}

static void trace_help(FILE *out)
{
	fprintf(out,
		"usage: motrace %s\n"
		"\n"
		"Trace the memory-object traffic between kernels and a manager: kernels\n"
		"that look the manager up reach motrace, and motrace reaches the manager.\n"
		"\n"
		"  --listen ADDR          where kernels find the object (unix:PATH, tcp:HOST:PORT)\n"
		"  --to ADDR              where the manager published it; pairs with --listen:\n"
		"                         a pager on libmotrace-mach is handed the --listen\n"
		"                         address and traced through its control socket, so\n"
		"                         ending motrace detaches; other managers are relayed\n"
		"  --relay                relay every --listen/--to pair through motrace,\n"
		"                         even to such a pager (ending motrace cuts the\n"
		"                         kernels off)\n"
		"  -- PAGER [ARGS...]     start PAGER (built on libmotrace-mach) with each\n"
		"                         address it publishes served through motrace\n"
		"  -p PID, -p unix:PATH   attach to a running pager (its control socket);\n"
		"                         may be repeated; ending motrace detaches\n"
		"  --observe              with -p: copies only, the pager never waits for\n"
		"                         motrace (no rules, no breakpoints)\n"
		"  --priority idle|normal motrace's CPU priority: idle (SCHED_IDLE: only\n"
		"                         time nothing else wants) is the default with\n"
		"                         --observe, normal otherwise\n"
		"  --secret FILE          shared secret for tcp: addresses\n"
		"  --exit-when-idle       stop once every kernel has gone\n"
		"  --fail-on-diag         exit 1 when the checker reported anything\n"
		"  -batch                 run commands, not an interactive session\n"
		"  -x FILE                run the commands in FILE\n"
		"  -ex CMD                run CMD (may be repeated)\n"
		"  -nx                    do not read ~/.motracerc at the prompt\n"
		"  --tui                  the page view: every page's state per kernel, live\n"
		"                         (with -r FILE: back and forth over the recording)\n"
		"%s"
		"  -h, --help             show this help\n"
		"\n"
		"Exit status: the pager's (128 + signal if a signal ended it) when it\n"
		"failed, else 1 on motrace's own error or a failed command, 2 on a usage\n"
		"error, 0 otherwise.\n"
		"\n"
		"Commands (batch scripts): see 'motrace help' or motrace(1).\n",
		trace_usage, trace_opts_help);
}

enum {
	OPT_LISTEN = 0x2000, OPT_TO, OPT_SECRET, OPT_IDLE, OPT_BATCH, OPT_X,
	OPT_EX, OPT_FAIL_ON_DIAG, OPT_NX, OPT_TUI, OPT_OBSERVE, OPT_RELAY,
	OPT_PRIORITY,
};

/*
 * Every thread of motrace's at SCHED_IDLE (sched(7)): each runs only
 * when its CPU has nothing else to run, so a woken pager or kernel never
 * waits behind motrace. Said once when the system refuses.
 */
static void idle_priority(void)
{
	struct sched_param sp = { 0 };
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int failed = 0;

	if (!d) {
		failed = sched_setscheduler(0, SCHED_IDLE, &sp) < 0 ? errno : 0;
	} else {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.' &&
			    sched_setscheduler((pid_t)atoi(de->d_name), SCHED_IDLE,
					       &sp) < 0 && !failed)
				failed = errno;
		closedir(d);
	}
	if (failed)
		fprintf(stderr, "motrace: --priority idle: %s; at normal priority\n",
			strerror(failed));
}

/* gdb's single-dash long options, turned into double-dash ones. */
static void fix_gdb_style(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "-batch"))
			argv[i] = "--batch";
		else if (!strcmp(argv[i], "-ex"))
			argv[i] = "--ex";
		else if (!strcmp(argv[i], "-x"))
			argv[i] = "--x";
		else if (!strcmp(argv[i], "-nx"))
			argv[i] = "--nx";
	}
}

int cmd_trace_main(int argc, char **argv)
{
	static const struct option own[] = {
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "to", required_argument, NULL, OPT_TO },
		{ "secret", required_argument, NULL, OPT_SECRET },
		{ "exit-when-idle", no_argument, NULL, OPT_IDLE },
		{ "fail-on-diag", no_argument, NULL, OPT_FAIL_ON_DIAG },
		{ "batch", no_argument, NULL, OPT_BATCH },
		{ "x", required_argument, NULL, OPT_X },
		{ "ex", required_argument, NULL, OPT_EX },
		{ "nx", no_argument, NULL, OPT_NX },
		{ "tui", no_argument, NULL, OPT_TUI },
		{ "observe", no_argument, NULL, OPT_OBSERVE },
		{ "relay", no_argument, NULL, OPT_RELAY },
		{ "priority", required_argument, NULL, OPT_PRIORITY },
		{ "help", no_argument, NULL, 'h' },
	};
	struct option longopts[sizeof(own) / sizeof(own[0]) + 32];
	const char *listen[16], *to[16], *secret = NULL, *targets[16];
	unsigned nlisten = 0, nto = 0, ntargets = 0, nattached = 0;
	struct mo_attach *att[17] = { NULL };
	int observe = 0, relay = 0, priority = -1;
	unsigned nrelayed = 0;
	struct trace_cli tc;
	struct mo_proxy_opts po = { 0 };
	struct mo_proxy *proxy = NULL;
	struct batch batch;
	struct spawn sp = { 0 };
	struct mo_recorder *rec = NULL;
	struct mo_plugins *plugins = NULL;
	int c, r, status = 0, idle = 0, batch_mode = 0, batch_running = 0;
	int fail_on_diag = 0, nex = 0, started = 0, nx = 0, nfiles = 0;
	int interactive = 0;
	struct repl repl;
	struct tui *tui = NULL;
	int want_tui = 0, viewing = 0;
	uint64_t last_int = 0;
	unsigned ndiags = 0;

	cli_longopts(longopts, own, sizeof(own) / sizeof(own[0]));
	fix_gdb_style(argc, argv);
	trace_cli_init(&tc);
	/*
	 * As strace's: the log goes to standard error unless -o says where,
	 * so the pager's standard output and the commands' answers keep
	 * standard output to themselves.
	 */
	tc.o.out = stderr;
	batch_init(&batch);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+hp:" TRACE_SHORTOPTS, longopts,
				NULL)) != -1) {
		if ((r = trace_cli_opt(&tc, c, optarg, "motrace")) != 0) {
			if (r < 0)
				goto usage_error;
			continue;
		}
		switch (c) {
		case OPT_LISTEN:
			if (nlisten == 16) {
				fprintf(stderr, "motrace: at most 16 --listen\n");
				goto usage_error;
			}
			listen[nlisten++] = optarg;
			break;
		case OPT_TO:
			if (nto == 16) {
				fprintf(stderr, "motrace: at most 16 --to\n");
				goto usage_error;
			}
			to[nto++] = optarg;
			break;
		case 'p':
			if (ntargets == 16) {
				fprintf(stderr, "motrace: at most 16 -p\n");
				goto usage_error;
			}
			targets[ntargets++] = optarg;
			break;
		case OPT_OBSERVE:
			observe = 1;
			break;
		case OPT_RELAY:
			relay = 1;
			break;
		case OPT_PRIORITY:
			if (!strcmp(optarg, "idle"))
				priority = 1;
			else if (!strcmp(optarg, "normal"))
				priority = 0;
			else {
				fprintf(stderr, "motrace: --priority: '%s' is neither idle nor normal\n",
					optarg);
				goto usage_error;
			}
			break;
		case OPT_SECRET:
			secret = optarg;
			break;
		case OPT_IDLE:
			idle = 1;
			break;
		case OPT_FAIL_ON_DIAG:
			fail_on_diag = 1;
			break;
		case OPT_BATCH:
			batch_mode = 1;
			break;
		case OPT_X:
			if (batch_add_file(&batch, optarg) < 0)
				goto usage_error;
			nfiles++;
			break;
		case OPT_NX:
			nx = 1;
			break;
		case OPT_TUI:
			want_tui = 1;
			break;
		case OPT_EX:
			batch_add(&batch, optarg, "-ex", (unsigned)++nex);
			break;
		case 'h':
			trace_help(stdout);
			trace_cli_release(&tc);
			batch_release(&batch);
			return 0;
		default:
			cli_bad_option("motrace", c, argv);
			goto usage_error;
		}
	}
	if (tc.readfile) {
		/*
		 * motrace -r FILE: the recorded session instead of a live one.
		 * No pager shares the terminal: the log is the output, as
		 * tcpdump -r's is.
		 */
		if (tc.o.out == stderr)
			tc.o.out = stdout;
		if (optind < argc || nlisten) {
			fprintf(stderr, "motrace: -r reads a recording: give no --listen, --to or PAGER with it\n");
			goto usage_error;
		}
		if (trace_cli_finish(&tc, "motrace") < 0)
			goto usage_error;
		/* On a terminal, the prompt: break, step, continue over it. */
		interactive = isatty(STDIN_FILENO) && !batch_mode && !nfiles &&
			      !want_tui;
		if (interactive &&
		    repl_start_recording(&repl, &batch, &tc.o, nx) < 0) {
			trace_cli_release(&tc);
			batch_release(&batch);
			return 1;
		}
		/* -x and -ex run between the recorded messages. */
		if (want_tui)
			status = tui_travel(&tc, tc.readfile, &batch, "motrace");
		else
			status = cli_read_recording(&tc, tc.readfile, argc, argv,
						    "motrace", &ndiags,
						    batch.n || interactive ? &batch : NULL);
		if (interactive)
			repl_stop(&repl);
		if (!status && fail_on_diag && ndiags)
			status = 1;
		trace_cli_release(&tc);
		batch_release(&batch);
		return status;
	}
	if (ntargets) {
		/* motrace [OPTIONS] -p PID... */
		if (optind < argc || nlisten || nto) {
			fprintf(stderr, "motrace: -p attaches to running pagers: give no --listen, --to or PAGER with it\n");
			goto usage_error;
		}
	} else if (observe && optind >= argc) {
		fprintf(stderr, "motrace: --observe goes with -p PID or -- PAGER\n");
		goto usage_error;
	} else if (optind < argc) {
		/* motrace [OPTIONS] -- PAGER ARGS */
		if (nto) {
			fprintf(stderr, "motrace: give --to or a PAGER to start, not both\n");
			goto usage_error;
		}
	} else if (nlisten != nto) {
		fprintf(stderr, "motrace: each --listen needs a --to (got %u and %u)\n",
			nlisten, nto);
		goto usage_error;
	} else if (!nlisten) {
		fprintf(stderr, "motrace: nothing to trace: give --listen ADDR --to ADDR, or -- PAGER ARGS\n");
		goto usage_error;
	}
	if (relay && !nlisten) {
		fprintf(stderr, "motrace: --relay goes with --listen and --to\n");
		goto usage_error;
	}
	if (trace_cli_finish(&tc, "motrace") < 0)
		goto usage_error;
	if (observe && tc.rules.n) {
		fprintf(stderr, "motrace: --observe: %s\n", OBSERVE_NO_RULES);
		goto usage_error;
	}
	/*
	 * The prompt, as gdb's: on a terminal, unless -batch or -x says the
	 * commands are written down. Its output and the log (when it goes
	 * to the terminal) are written above the line being typed.
	 */
	interactive = isatty(STDIN_FILENO) && !batch_mode && !nfiles &&
		      !want_tui;
	if (want_tui) {
		/* Before the pager starts: what it writes goes to the log pane. */
		tui = tui_open(&tc, "motrace");
		if (!tui) {
			status = 1;
			goto out;
		}
		batch.out = tui_stream(tui);
		sp.own_group = 1;
	}
	if (interactive) {
		FILE *o = NULL, *l = NULL;

		if (tc.o.out == stderr || tc.o.out == stdout)
			l = repl_stream(fileno(tc.o.out));
		o = repl_stream(STDOUT_FILENO);
		if (!o || (!l && (tc.o.out == stderr || tc.o.out == stdout))) {
			fprintf(stderr, "motrace: cannot set up the terminal's streams\n");
			status = 1;
			goto out;
		}
		if (l)
			tc.o.out = l;
		batch.out = o;
		sp.own_group = 1;
	}

	po.secret_file = secret;
	po.trace = mo_trace_new(&tc.o);
	if (cli_record_start(&tc, po.trace, argc, argv, "motrace", &rec) < 0) {
		status = 2;
		goto out;
	}
	po.rules = tc.rules;
	tc.rules.n = 0;
	po.exit_when_idle = idle;
	if (tc.o.stacks) {
		/* -k: every peer on libmotrace-mach sends its senders' stacks. */
		po.stacks = mo_symbolizer_new();
		mo_mach_want_stacks(1);
	}
	proxy = mo_proxy_new(&po);
	if (!proxy) {
		status = 1;
		goto out;
	}
	/*
	 * Before any attach: a pager attached to waits for motrace's word on
	 * each message from its first on when a face may stop one (the
	 * loop says so again each turn, below).
	 */
	mo_proxy_engine(proxy)->may_stop = batch.n || batch_mode ||
					   interactive || want_tui;
	plugins = trace_cli_plugins(&tc, po.trace, "motrace");
	if (!plugins) {
		status = 2;
		goto out;
	}
	mo_plugins_attach(plugins, mo_proxy_engine(proxy));
	if (observe)
		mo_proxy_engine(proxy)->no_rules = OBSERVE_NO_RULES;
	batch.plugins = plugins;
	if (ntargets) {
		struct mo_attach_opts ao = { .observe = observe };

		for (unsigned i = 0; i < ntargets; i++) {
			att[nattached] = mo_attach_open(proxy, targets[i], &ao);
			if (!att[nattached]) {
				status = 1;
				goto out;
			}
			nattached++;
		}
	} else if (optind < argc) {
		struct mo_attach_opts ao = {
			.observe = observe,
			.manager = "the manager started by motrace",
		};

		/* It publishes its own addresses once motrace is attached. */
		if (spawn_pager(&sp, argv + optind, listen, nlisten) < 0 ||
		    spawn_start(&sp, argv + optind) < 0 ||
		    spawn_attach(&sp, proxy, &ao, &att[0]) < 0) {
			status = 1;
			goto out;
		}
		nattached = att[0] != NULL;
	} else {
		/* Each pair on its own: handed to its pager, or relayed. */
		for (unsigned i = 0; i < nlisten; i++) {
			r = handoff_add(proxy, listen[i], to[i], secret, relay);
			if (r < 0) {
				status = 1;
				goto out;
			}
			nattached += r == 1;
			nrelayed += r == 0;
		}
	}
	started = 1;
	/*
	 * Observing promises not to slow the pager down: motrace takes only
	 * CPU time that nothing else wants (a pager it started was forked
	 * already, at its own priority). Threads started later inherit it.
	 */
	if (priority < 0 ? observe : priority)
		idle_priority();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* The view's terminal hung up: end as on SIGTERM (the pager too). */
	if (tui)
		signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	batch.proxy = proxy;
	batch.trace = po.trace;
	batch_running = batch.n || batch_mode;
	if (tui) {
		if (tui_start(tui, &batch, proxy, po.trace) < 0) {
			status = 1;
			goto out;
		}
		viewing = 1;
	}
	if (interactive) {
		if (repl_start(&repl, &batch, mo_proxy_engine(proxy), nx) < 0) {
			status = 1;
			goto out;
		}
		batch_running = 1;
	}

	for (;;) {
		if (stop_signal == SIGINT && interactive && !viewing) {
			/* Ctrl-C stops the traffic; a second within a second quits. */
			uint64_t t = mo_now();
			int second = last_int && t - last_int < 1000000000ULL;

			repl_interrupt(&repl, second);
			if (second)
				break;
			/* Observing: copies cannot be stopped; Ctrl-C twice quits. */
			if (!observe)
				mo_proxy_engine(proxy)->stopped = 1;
			last_int = t;
			stop_signal = 0;
		}
		if (stop_signal)
			break;
		/*
		 * The proxy sleeps until a message, a signal or its next due
		 * time; a batch script's waits want a look every 50 ms (the
		 * prompt wakes the loop itself).
		 */
		/*
		 * With no face that may add a breakpoint or stop the
		 * traffic, a pager attached to need not wait for motrace's
		 * word on each message (tracer/attach.c, judge_as_needed).
		 */
		mo_proxy_engine(proxy)->may_stop = batch_running || interactive ||
						   tui;
		r = mo_proxy_step(proxy, viewing ? tui_timeout_ms(tui)
				  : batch_running && !interactive ? 50 : 1000);
		if (r < 0)
			status = 1;
		if (r <= 0) {
			/* The traffic is over; what the script still asks is judged now. */
			if (batch_running && batch_end(&batch, mo_now()) == BATCH_FAILED)
				status = 1;
			break;
		}
		/*
		 * The view's commands run as they come; until the first, no
		 * batch step (its listener would render every message's text).
		 */
		if (tui && !batch_running && batch.pc < batch.n)
			batch_running = 1;
		if (batch_running) {
			r = batch_step(&batch, mo_now());
			if (r == BATCH_FAILED || r == BATCH_QUIT) {
				if (r == BATCH_FAILED || batch.status)
					status = batch.status ? batch.status : 1;
				break;
			}
			if (r == BATCH_DONE && !interactive && !tui) {
				batch_running = 0;
				/* -batch: done when the commands are */
				if (batch_mode)
					break;
			}
		}
		if (interactive && batch.view && !viewing) {
			/* view at the prompt: the page view until q, then the prompt */
			batch.view = 0;
			repl_stop(&repl);
			viewing = tui_view(&tui, &tc, &batch, proxy, po.trace) == 0;
			if (!viewing &&
			    repl_start(&repl, &batch, mo_proxy_engine(proxy), 1) < 0) {
				status = 1;
				break;
			}
		}
		if (interactive && !viewing && repl.done)
			break;
		if (viewing) {
			tui_poll(tui);
			if (tui_done(tui) && !interactive)
				break;
			if (tui_done(tui)) {
				tui_close(tui);
				viewing = 0;
				if (repl_start(&repl, &batch, mo_proxy_engine(proxy), 1) < 0) {
					status = 1;
					break;
				}
			}
		}
		if (sp.exited || (sp.pid && spawn_exited(&sp)))
			break;
		if (nattached && !sp.argv0 && !nrelayed) {
			unsigned live = 0, gone = 0;

			for (unsigned i = 0; i < mo_attach_count(); i++) {
				struct mo_attach *a = mo_attach_nth(i);

				if (mo_attach_detached(a))
					continue;
				live += !mo_attach_gone(a);
				gone += mo_attach_gone(a);
			}
			/* Every pager attached to went away: nothing left to trace. */
			if (!live && gone)
				break;
		}
	}
	if (stop_signal && !(interactive && stop_signal == SIGINT))
		mo_trace_note(po.trace, mo_now(), "stopped by signal %d",
			      (int)stop_signal);
out:
	/*
	 * Ending is a detach: what motrace holds goes on, then the pagers
	 * talk to their kernels directly again. The --listen sockets they
	 * serve are removed first: no kernel comes while they stop.
	 */
	handoff_unlink();
	for (unsigned i = 0; i < mo_attach_count(); i++)
		if (mo_attach_detach(mo_attach_nth(i), 0) < 0)
			status = 1;
	if (interactive && started)
		repl_stop(&repl);
	/* The terminal as it was before anything else is said. */
	if (tui)
		batch.out = stdout;
	tui_close(tui);
	spawn_release(&sp, att[0] && sp.argv0 && !mo_attach_gone(att[0])
			   ? mo_attach_kernels(att[0]) : 0);
	if (sp.runs_on && po.trace)
		mo_trace_note(po.trace, mo_now(),
			      "%s (pid %u) still serves %u kernel(s): it runs on, and exits once they are gone",
			      sp.argv0, (unsigned)sp.pid, mo_attach_kernels(att[0]));
	while (mo_attach_count())
		mo_attach_free(mo_attach_nth(0));
	if (proxy)
		mo_proxy_free(proxy);
	if (sp.exited && po.trace)
		mo_trace_note(po.trace, mo_now(), sp.exit_status > 128
			      ? "%s ended by signal %d" : "%s exited with status %d",
			      sp.argv0, sp.exit_status > 128 ? sp.exit_status - 128
			      : sp.exit_status);
	if (cli_record_finish(rec, &tc, "motrace") < 0)
		status = 1;
	if (plugins)
		mo_plugins_finish(plugins, tc.o.out);
	if (po.trace) {
		/* Nothing was traced when motrace could not start: no summary. */
		if (started)
			mo_trace_finish(po.trace);
		ndiags = mo_trace_ndiags(po.trace);
		mo_plugins_free(plugins);
		mo_trace_free(po.trace);
	}
	tui_free(tui);
	mo_symbolizer_free(po.stacks);	/* after all that shows its names */
	/*
	 * As strace: the pager's failure is the session's; then motrace's
	 * own errors and failed commands; diagnostics when asked.
	 */
	if (sp.exited && sp.exit_status)
		status = sp.exit_status;
	else if (!status && fail_on_diag && ndiags)
		status = 1;
	trace_cli_release(&tc);
	batch_release(&batch);
	return status;
usage_error:
	trace_cli_release(&tc);
	batch_release(&batch);
	return 2;
}

static int cmd_trace(int argc, char **argv)
{
	return cmd_trace_main(argc, argv);
}

const struct cmd_entry cmd_trace_entry = {
	.name = "trace",
	.usage = trace_usage,
	.summary = "trace live traffic through the proxy (the default)",
	.exec = cmd_trace,
};
