# Micro-experiment (BENCHMARKS.md, issue 4): cost of group-committed check rows in SQLite as
# the store writes them
# (WAL, synchronous=FULL, 16 KiB pages, TEXT PRIMARY KEY id + two indexes), 64 rows a commit.
# Usage: python3 scripts/bench-checklog-sqlite.py VARIANT [CODES_FILE]
# VARIANT: "current", or words among seqid (time-ordered ids), 4k (4 KiB pages),
# normal (synchronous=NORMAL), noidx (no checks_subject index), e.g. "seqid-4k".
import os, random, sqlite3, sys, time, json
variant = sys.argv[1]
path = f"bench-out/checks/exp-{variant}.sqlite3"
os.makedirs("bench-out/checks", exist_ok=True)
for s in ("", "-wal", "-shm"):
    try: os.remove(path + s)
    except FileNotFoundError: pass
page = 4096 if "4k" in variant else 16384
sync = "NORMAL" if "normal" in variant else "FULL"
c = sqlite3.connect(path, isolation_level=None)
c.executescript(f"PRAGMA page_size={page}; PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA cache_size=-65536;")
c.executescript("""CREATE TABLE checks (id TEXT PRIMARY KEY, at_ms INTEGER NOT NULL, account_id INTEGER NOT NULL,
 department TEXT NOT NULL, matter TEXT NOT NULL, purpose TEXT NOT NULL, subject_code TEXT NOT NULL, as_of TEXT NOT NULL,
 verdict TEXT NOT NULL, measures TEXT NOT NULL, listings TEXT NOT NULL, ledger_size INTEGER NOT NULL,
 feedback_ms INTEGER, feedback_account INTEGER, applied TEXT, not_applied TEXT, n_applied INTEGER, n_not_applied INTEGER, note TEXT);
""" + ("" if "noidx" in variant else "CREATE INDEX checks_subject ON checks (subject_code, at_ms);") + """
CREATE INDEX checks_department ON checks (department, at_ms);""")
codes = [l.strip() for l in open(sys.argv[2] if len(sys.argv) > 2 else "bench-out/checks/codes-3000000.txt")]
seq = [0]
def cid(now):
    if "seqid" in variant:
        seq[0] += 1
        return "chk_%011x%013x" % (now, random.getrandbits(52))
    return "chk_" + os.urandom(12).hex()
def row(now):
    return (cid(now), now, 1, "北京市财政局", "government_procurement", "bench", random.choice(codes), "2026-11-26",
            "clear", "[]", "[]", 6060000)
ins = "INSERT INTO checks (id, at_ms, account_id, department, matter, purpose, subject_code, as_of, verdict, measures, listings, ledger_size) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
# pre-fill 500 000 rows (as after a few benchmark runs)
now = int(time.time() * 1000)
c.execute("BEGIN")
c.executemany(ins, [row(now + i // 50) for i in range(500_000)])
c.execute("COMMIT")
n, t = 0, time.time()
while time.time() - t < 8:
    now = int(time.time() * 1000)
    c.execute("BEGIN"); c.executemany(ins, [row(now) for _ in range(64)]); c.execute("COMMIT")
    n += 64
el = time.time() - t
print(f"{variant:16} {n/el:8.0f} rows/s  {el/(n/64)*1000:6.2f} ms per 64-row commit")
c.close()
for s in ("", "-wal", "-shm"):
    try: os.remove(path + s)
    except FileNotFoundError: pass
