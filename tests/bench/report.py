#!/usr/bin/env python3
"""report.py RESULTS: print the table of `make bench` from the results file
that tests/bench/run.sh writes (one "KEY VALUE" per line).

Each row: what was measured, the result, what it is compared with, the target
the issue sets (if any) and whether the target is met ("yes", "NO", or "-"
when the inputs are missing). A missing result prints as "failed" (the run's
log says why) or as the note run.sh recorded ("not installed").
Always exits 0 when the file can be read: targets are reported, not enforced.
"""
import sys

MIB = 1024.0


def load(path):
    r = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition(" ")
            if k:
                r[k] = v
    return r


def num(r, k):
    try:
        return float(r[k])
    except (KeyError, ValueError):
        return None


def mbps(r, k, note=None):
    v = num(r, k)
    if v is None:
        return r.get(note, "failed") if note else "failed"
    return "%.1f Mbit/s" % v


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def met(x, want):
    if x is None:
        return "-"
    return "yes" if want(x) else "NO"


def cpu(r, tag, names):
    """'CPU ini 35%, tgt 41% of a core; all CPUs 90% busy', from what was measured."""
    parts = []
    for label, n in names:
        v = num(r, "%s_cpu_%s" % (tag, n))
        if v is not None:
            parts.append("%s %d%%" % (label, v))
    out = ("CPU " + ", ".join(parts) + " of a core") if parts else ""
    busy = num(r, "%s_host_busy" % tag)
    if busy is not None:
        out += ("; " if out else "") + "all CPUs %d%% busy" % busy
    return out


def rss_row(r, tag, name):
    idle = num(r, "%s_rss_%s_idle" % (tag, name))
    load_ = num(r, "%s_rss_%s_load" % (tag, name))
    aidle = num(r, "%s_anon_%s_idle" % (tag, name))
    aload = num(r, "%s_anon_%s_load" % (tag, name))
    if idle is None or load_ is None:
        return "failed", "", None
    res = "%.2f / %.2f MiB" % (idle / MIB, load_ / MIB)
    detail = ""
    if aidle is not None and aload is not None:
        detail = "of which anonymous %.2f / %.2f MiB" % (aidle / MIB, aload / MIB)
    return res, detail, idle / MIB


def fmt_ratio(x, unit, what):
    return "" if x is None else ("%.2f%s %s" % (x, unit, what))


def crypto_need(r, target, seal, open_):
    """What sealing and opening alone cost at the target rate: the sender seals
    every packet and the receiver opens it, each at one core's measured rate.
    Compared with the machine's CPUs, which also run both iperf3 ends, the
    kernel's TCP and UDP work and the rest of both connectd."""
    if target is None or not seal or not open_:
        return ""
    cores = target / seal + target / open_
    return "at %.0f Mbit/s sealing + opening alone take %.2f cores of %s" % (
        target, cores, r.get("cpus", "?"))


def rows(r):
    direct = num(r, "direct_mbps")
    m0, m2, m3 = num(r, "m0_mbps"), num(r, "m2_mbps"), num(r, "m3_mbps")
    kcp, ssh, lossy = num(r, "kcptun_mbps"), num(r, "ssh_mbps"), num(r, "loss_mbps")
    xx, seal2 = num(r, "crypto_xxtea_encrypt"), num(r, "crypto_seal_mode2")
    m2_kcp, m2_xx, m3_ssh = ratio(m2, kcp), ratio(m2, xx), ratio(m3, ssh)
    loss_rel = ratio(lossy, m2)
    out = []
    out.append(("iperf3, direct TCP (no tunnel)", mbps(r, "direct_mbps"), cpu(r, "direct", ()),
                "", ""))
    for mode, v, name in ((0, m0, "tag only"), (2, m2, "XXTEA"), (3, m3, "ChaCha20-Poly1305")):
        d = fmt_ratio(ratio(v, direct), "", "of direct")
        c = cpu(r, "m%d" % mode, (("ini", "im%d" % mode), ("tgt", "tm%d" % mode)))
        out.append(("p2pd mode %d (%s)" % (mode, name), mbps(r, "m%d_mbps" % mode),
                    "; ".join(x for x in (d, c) if x), "", ""))
    for mode in (2, 3):
        tag = "m%dd%s" % (mode, r.get("deep", "64"))
        if num(r, tag + "_mbps") is None:
            continue
        d = fmt_ratio(ratio(num(r, tag + "_mbps"), num(r, "m%d_mbps" % mode)), "",
                      "of mode %d at max_depth 12" % mode)
        c = cpu(r, tag, (("ini", "i" + tag), ("tgt", "t" + tag)))
        out.append(("p2pd mode %d, max_depth %s" % (mode, r.get("deep", "64")),
                    mbps(r, tag + "_mbps"), "; ".join(x for x in (d, c) if x), "", ""))
    out.append(("kcptun xtea, wnd 12, mtu 1200, no FEC", mbps(r, "kcptun_mbps", "kcptun_note"),
                cpu(r, "kcptun", (("client", "kcpc"), ("server", "kcps"))), "", ""))
    out.append(("ssh -L, chacha20-poly1305", mbps(r, "ssh_mbps", "ssh_note"),
                cpu(r, "ssh", (("client", "sshc"),)), "", ""))
    out.append(("one core: xxtea_encrypt, 1160 B", mbps(r, "crypto_xxtea_encrypt"), "", "", ""))
    out.append(("one core: mode 2 dp_seal, 1164 B", mbps(r, "crypto_seal_mode2"),
                fmt_ratio(ratio(seal2, xx), "", "of xxtea_encrypt"), "", ""))
    out.append(("one core: mode 2 dp_open, 1164 B", mbps(r, "crypto_open_mode2"), "", "", ""))
    out.append(("one core: mode 3 dp_seal, 1164 B", mbps(r, "crypto_seal_mode3"), "", "", ""))
    out.append(("one core: mode 3 dp_open, 1164 B", mbps(r, "crypto_open_mode3"), "", "", ""))
    out.append(("mode 2 / kcptun", "n/a" if m2_kcp is None else "%.2fx" % m2_kcp, "",
                ">= 5x", met(m2_kcp, lambda x: x >= 5)))
    open2, seal3, open3 = (num(r, "crypto_open_mode2"), num(r, "crypto_seal_mode3"),
                           num(r, "crypto_open_mode3"))
    out.append(("mode 2 / one core's XXTEA", "n/a" if m2_xx is None else "%.3f" % m2_xx,
                "; ".join(x for x in (fmt_ratio(ratio(m2, seal2), "", "of one core's mode 2 seal"),
                                      crypto_need(r, None if xx is None else xx / 2,
                                                  seal2, open2)) if x),
                ">= 0.5", met(m2_xx, lambda x: x >= 0.5)))
    out.append(("mode 3 / ssh", "n/a" if m3_ssh is None else "%.2fx" % m3_ssh,
                crypto_need(r, ssh, seal3, open3), ">= 1x", met(m3_ssh, lambda x: x >= 1)))
    out.append(("mode 2 at %s%% UDP loss" % r.get("loss_pct", "5"), mbps(r, "loss_mbps"),
                "; ".join(x for x in (fmt_ratio(loss_rel, "", "of mode 2 without loss"),
                                      cpu(r, "loss", (("ini", "iloss"), ("tgt", "tloss"))))
                          if x), "", ""))
    med = num(r, "start_median")
    if med is None:
        out.append(("start to 'Proxy started.'", "failed", "", "<= 100 ms", "-"))
    else:
        out.append(("start to 'Proxy started.' (median)", "%.1f ms" % med,
                    "%s runs, %.1f .. %.1f ms" % (r.get("start_runs", "?"),
                                                  num(r, "start_min") or 0,
                                                  num(r, "start_max") or 0),
                    "<= 100 ms", met(med, lambda x: x <= 100)))
    for label, name in (("initiator", "im2"), ("target", "tm2")):
        res, detail, idle = rss_row(r, "m2", name)
        out.append(("%s VmRSS idle / under load" % label, res, detail, "idle < 2 MiB",
                    met(idle, lambda x: x < 2)))
    return out


# --- relay (run.sh's bench_relays) --------------------------------------------

def path_note(r, tag, want):
    """'path relay (initiator's !!path line; rdv relaying it)', or why the row
    was not measured."""
    got = r.get("%s_path" % tag)
    if got is None:
        return "path not seen", False
    if got != want:
        return "path %s, not %s: not measured" % (got, want), False
    out = "path %s (initiator's !!path line" % got
    if want == "relay":
        out += "; rdv logged the relay" if r.get("%s_relaying" % tag) == "1" \
            else "; rdv did not log the relay"
    return out + ")", True


def relay_rows(r):
    out = []
    rate = num(r, "relay_rate")
    raised = "relay limits %.0f MB/s" % (rate / 1e6) if rate else "relay limits raised"
    m2 = num(r, "m2_mbps")
    specs = (("nd2", 2, "direct", "direct mode 2 (masq/masq NATs)", ""),
             ("rl2", 2, "relay", "relay mode 2 (sym/sym NATs)", raised),
             ("rl3", 3, "relay", "relay mode 3 (sym/sym NATs)", raised),
             ("rd2", 2, "relay", "relay mode 2, default relay limits",
              "relay_rate 10 MB/s, relay_total 100 MB/s"))
    for tag, mode, want, label, limits in specs:
        note, ok = path_note(r, tag, want)
        names = (("ini", "i" + tag), ("tgt", "t" + tag))
        if want == "relay":
            names += (("rdv", "rdv"),)
        c = cpu(r, tag, names) if ok else ""
        v = mbps(r, "%s_mbps" % tag)
        if tag == "nd2":
            c = "; ".join(x for x in (fmt_ratio(ratio(num(r, "nd2_mbps"), m2), "",
                                                "of mode 2 without NAT"), c) if x)
        drops = ""
        if want == "relay" and num(r, "%s_rdv_over_rate" % tag) is not None:
            drops = "rdv dropped %d over relay_rate, %d over relay_total" % (
                num(r, "%s_rdv_over_rate" % tag), num(r, "%s_rdv_over_total" % tag) or 0)
        out.append((label, v, "; ".join(x for x in (note, limits, drops, c) if x), "", ""))
    rl2, nd2, rl3 = num(r, "rl2_mbps"), num(r, "nd2_mbps"), num(r, "rl3_mbps")
    x = ratio(rl2, nd2)
    out.append(("relay / direct, mode 2", "n/a" if x is None else "%.2f" % x,
                "; ".join(y for y in (fmt_ratio(ratio(rl2, m2), "", "of mode 2 without NAT"),
                                      fmt_ratio(ratio(rl3, rl2), "", "mode 3 / mode 2 relayed"))
                          if y), "", ""))
    return out


# --- 200 idle initiators (tests/bench/idle200.sh) ---------------------------

def idle_cpu(r, side):
    """CPU of SIDE's p2pd and its workers over the idle window, in percent of
    one core: (total, workers, p2pd, source), from schedstat when the kernel
    has it, else from utime+stime."""
    for src, unit in (("cpu_pct", "schedstat"), ("ticks_pct", "utime+stime")):
        w = num(r, "idle_%s_kids_%s" % (side, src))
        p = num(r, "idle_%s_self_%s" % (side, src))
        if w is not None and p is not None:
            return w + p, w, p, unit
    return None, None, None, None


def idle_state(r, side):
    """'200/200 up:connected, 0 restarts' after the window."""
    n = r.get("idle_n", "?")
    end = r.get("idle_%s_end" % side, "").split("_")
    if len(end) != 4:
        return "state after the window unknown"
    states = ", ".join("%s/%s up:%s" % (x.split("=")[1], n, x.split("=")[0])
                       for x in end[2].split(",") if "=" in x) or "0/%s up" % n
    out = "%s, %s restarts" % (states, end[3])
    new = num(r, "idle_%s_kids_new" % side)
    if new:
        out += ", %d replaced" % new
    return out


def idle_rows(r):
    out = []
    n = r.get("idle_n", "200")
    secs = r.get("idle_secs", "?")
    for side, who in (("ini", "initiators"), ("tgt", "targets")):
        target = "< 1% of a core" if side == "ini" else ""
        tot, w, p, unit = idle_cpu(r, side)
        label = "%s idle %s: CPU over %s s" % (n, who, secs)
        if tot is None:
            out.append((label, "failed", "", target, "-" if target else ""))
        else:
            detail = "workers %.3f%% + p2pd %.3f%%; %s" % (w, p, idle_state(r, side))
            if unit != "schedstat":
                detail += " (%s)" % unit
            if side == "tgt":
                rdv = num(r, "idle_rdv_self_cpu_pct")
                if rdv is None:
                    rdv = num(r, "idle_rdv_self_ticks_pct")
                if rdv is not None:
                    detail += "; rdv %.3f%%" % rdv
            out.append((label, "%.3f%% of a core" % tot, detail, target,
                        met(tot, lambda x: x < 1) if target else ""))
        wn = num(r, "idle_%s_kids_n" % side)
        ws, ps = num(r, "idle_%s_kids_switches_per_s" % side), \
            num(r, "idle_%s_self_switches_per_s" % side)
        if side == "ini" and ws is not None and ps is not None and wn:
            out.append(("%s idle %s: wake-ups" % (n, who), "%.2f /s per worker" % (ws / wn),
                        "context switches; p2pd %.0f /s" % ps, "", ""))
        rss, anon, pss = (num(r, "idle_%s_kids_%s_kb" % (side, k)) for k in ("rss", "anon", "pss"))
        prss, ppss = num(r, "idle_%s_self_rss_kb" % side), num(r, "idle_%s_self_pss_kb" % side)
        if rss is None or prss is None or not wn:
            out.append(("%s idle %s: memory" % (n, who), "failed", "", "", ""))
            continue
        out.append(("%s idle %s: p2pd VmRSS" % (n, who), "%.2f MiB" % (prss / MIB),
                    "Pss %.2f MiB" % ((ppss or 0) / MIB), "", ""))
        out.append(("%s idle %s: workers' VmRSS sum" % (n, who), "%.1f MiB" % (rss / MIB),
                    "%.2f MiB each; RssAnon sum %.1f MiB, Pss sum %.1f MiB"
                    % (rss / MIB / wn, (anon or 0) / MIB, (pss or 0) / MIB), "", ""))
    return out


def table(r, idle_only=False):
    head = ("measurement", "result", "compared / detail", "target", "met")
    body = idle_rows(r) if idle_only else rows(r) + relay_rows(r) + idle_rows(r)
    w = [max(len(x[i]) for x in body + [head]) for i in range(len(head))]
    line = "  ".join("%-*s" % (w[i], head[i]) for i in range(len(head)))
    print(line.rstrip())
    print("  ".join("-" * w[i] for i in range(len(head))))
    for row in body:
        print("  ".join("%-*s" % (w[i], row[i]) for i in range(len(head))).rstrip())


def main():
    args = sys.argv[1:]
    idle_only = bool(args) and args[0] == "--idle-only"
    if idle_only:
        args = args[1:]
    if len(args) != 1:
        sys.exit("usage: report.py [--idle-only] RESULTS")
    try:
        r = load(args[0])
    except OSError as e:
        sys.exit("report.py: cannot read %s: %s" % (args[0], e))
    print()
    if idle_only:
        print("p2pd bench, idle workers: %s CPUs, load average %s at the start, kernel %s"
              % (r.get("cpus", "?"), r.get("loadavg", "?"), r.get("kernel", "?")))
        print()
        table(r, idle_only=True)
        return 0
    print("p2pd bench: %s; %s CPUs, load average %s at the start, kernel %s"
          % (r.get("connectd_version", "?"), r.get("cpus", "?"), r.get("loadavg", "?"),
             r.get("kernel", "?")))
    print("path: two namespaces, veths on one bridge, no NAT, no added delay;"
          " iperf3 TCP, 1 stream, %s s, initiator -> target; Mbit/s = 10^6 bit/s"
          % r.get("secs", "?"))
    print()
    table(r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
