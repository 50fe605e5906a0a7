#!/usr/bin/env python3
"""Fresh processes against Typst (a benchmark, not a test).

    python3 tests/bench/fresh.py [-n ROUNDS] [--cold] [--no-typst] [--realtime] [LANG...] [-- PILDOC...]

For each language (default zh_CN en fr): ROUNDS rounds (default 11), each
running every given pildoc binary (default ./pildoc; give an older build
too to compare) on `render leaflet --lang LANG`, then Typst on the same
leaflet in a new `node` process (tests/bench/typst-bench.mjs fresh, the
Typst source made by tests/bench/typst-leaflet.py as in tests/bench.sh).
Prints median and minimum CPU (user + system of the process tree) and wall
time, and each pildoc's ratio to Typst. --no-typst: the pildoc binaries
only (nothing of Typst needed), in alternating order each round, with the
range of each figure: for comparing two builds on a busy machine.
--realtime (as root): every measured command runs under `chrt -f 20`
(SCHED_FIFO), so that on a machine shared with other work it has the
cores as on a quiet one (wall times of a process using two cores, like
Typst's, or pildoc's with its warm-up thread, mean nothing otherwise). pildoc runs with the caller's
cache folder ($XDG_CACHE_HOME/pildoc: fontconfig's cache, the SVG pixels
and font subsets kept by earlier runs, src/diskcache.h), as a user's
second and later renders do; with --cold, with a cache folder of its own
that keeps fontconfig's cache but loses pildoc's entries before each run,
as a first render does (each run then makes and writes them). Needs
typst.ts in build/bench (make bench installs it; TYPST_TS_MODULES points
elsewhere), node and
/usr/bin/python3 with pikepdf. Binaries outside the source tree find its
data through PILDOC_DATADIR, set to the tree.
"""
import os, re, resource, statistics, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
args = sys.argv[1:]
rounds = 11
if args[:1] == ["-n"]:
    rounds, args = int(args[1]), args[2:]
cold = no_typst = realtime = False
while args[:1] in (["--cold"], ["--no-typst"], ["--realtime"]):
    cold, no_typst = cold or args[0] == "--cold", no_typst or args[0] == "--no-typst"
    realtime = realtime or args[0] == "--realtime"
    args = args[1:]
bins = ["./pildoc"]
if "--" in args:
    i = args.index("--")
    args, bins = args[:i], args[i + 1:]
langs = args or ["zh_CN", "en", "fr"]
env = dict(os.environ, SOURCE_DATE_EPOCH="1795305600", PILDOC_DATADIR=root,
           TYPST_TS_MODULES=os.path.realpath(os.environ.get("TYPST_TS_MODULES", root + "/build/bench/node_modules")))


def forget(cache):
    """Removes pildoc's own entries (KIND-<64 hex>.EXT) from the cache folder."""
    d = os.path.join(cache, "pildoc")
    for name in os.listdir(d) if os.path.isdir(d) else []:
        if re.fullmatch(r"[a-z]+-[0-9a-f]{64}\.[a-z0-9]+", name):
            os.unlink(os.path.join(d, name))


def run(cmd):
    if cold and cmd[0] != "node":
        forget(env["XDG_CACHE_HOME"])
    if realtime:
        cmd = ["chrt", "-f", "20"] + cmd
    r0, w0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=root)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (1000 * (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime), 1000 * (time.perf_counter() - w0))


with tempfile.TemporaryDirectory() as t:
    if cold:
        env["XDG_CACHE_HOME"] = os.path.join(t, "cache")
        os.mkdir(env["XDG_CACHE_HOME"], 0o700)
    for lang in langs:
        pdf, txt, typ = (os.path.join(t, "ty-%s.%s" % (lang, e)) for e in ("pdf", "txt", "typ"))
        run([bins[0], "render", "leaflet", "--lang", lang, "-o", pdf])
        run([bins[0], "render", "leaflet", "--lang", lang, "--format", "text", "-o", txt])
        cmds = [(b, [os.path.abspath(os.path.join(root, b)), "render", "leaflet", "--lang", lang, "-o", t + "/fresh.pdf"])
                for b in bins]
        if not no_typst:
            run(["/usr/bin/python3", "tests/bench/typst-leaflet.py", pdf, txt, typ])
            cmds.append(("Typst (node)", ["node", "tests/bench/typst-bench.mjs", "fresh", "fonts", typ, t + "/fresh-ty.pdf"]))
        else:
            for name, cmd in cmds:  # each binary's own cache entries, as a user's second render has
                run(cmd)
        res = {name: [] for name, _ in cmds}
        for i in range(rounds):
            for name, cmd in (cmds if i % 2 == 0 or not no_typst else cmds[::-1]):
                res[name].append(run(cmd))
        stat = {}
        for name, _ in cmds:
            cpu = [r[0] for r in res[name]]
            wall = [r[1] for r in res[name]]
            stat[name] = (statistics.median(cpu), min(cpu), statistics.median(wall), min(wall))
            if no_typst:
                print("%-6s %-28s CPU median %6.1f ms (%.1f-%.1f), wall median %6.1f ms (%.1f-%.1f)"
                      % (lang, name, stat[name][0], min(cpu), max(cpu), stat[name][2], min(wall), max(wall)))
        if no_typst:
            continue
        ty = stat["Typst (node)"]
        for name, _ in cmds:
            s = stat[name]
            ratio = "" if name == "Typst (node)" else "  %.3fx Typst's CPU (min %.3fx), %.3fx its wall time" % (
                s[0] / ty[0], s[1] / ty[1], s[2] / ty[2])
            print("%-6s %-28s CPU median %6.1f ms (min %6.1f), wall median %6.1f ms (min %6.1f)%s"
                  % (lang, name, s[0], s[1], s[2], s[3], ratio))
