"""Dirt, file formats and file moves: how each source lands (README s.1).

What differs by source (the columns dirt may empty, the free text that gets line breaks,
whether rows may be lost, each delivery's file profile) is the source's generator
profile, conf/generate/<source>.yaml (:mod:`jobs.generate.profiles`).

- ``with_dirt`` adds realistic dirt to background rows in Spark, every choice a hash of
  the row key: valid forms that normalise to the same value (15-digit IDs for people
  born 1900-1999, full-width digits, spaces incl. U+3000 and U+00A0, lower-case x, the
  three date formats, both month formats), empty optional fields that no rule reads
  (``may_empty``), line breaks, doubled quotes and commas in one free-text column
  (``text_with_breaks``), exact duplicates, and rows that ingest must quarantine but
  whose loss changes nothing: extra copies of a row with a bad check digit, an impossible
  date or an empty required field, pairs of rows with a fresh key and different content
  (KEY_CONFLICT), and - only in sources whose rows can only make a rule fire, never stop
  one (``loss_safe``) - some rows whose required ID is invalid.
- ``format_for_file`` maps enum codes to Chinese value aliases, headers to aliases and
  shuffles the column order, per file profile.
- ``Files.write`` writes with Spark into a scratch folder and moves the part files to
  ``<out>/<source>/<batch>/<stem>[-NN].<ext>`` with the Hadoop FileSystem API, so the
  output may be any URI; a UTF-8 BOM is written as the first character of the header.
  It lists every file it writes (``Files.written``) for the next pass.
- :mod:`jobs.generate.forms` then gives a few files, chosen from the seed, the forms of
  contract section 1 that Spark's writer never makes, and adds the files a batch folder
  also holds: header-only files (UTF-8 with BOM, GB18030, gzipped, a parquet file with no
  rows), headers padded with white space (U+3000, U+00A0) and canonical names in upper or
  mixed case, ``""`` fields, blank lines between records and at the end, a last record
  without its line break, CRLF line ends, an extra column, doubled quotes, a comma and
  CR/LF/CRLF inside a quoted field of a GB18030 file, extensions in upper or mixed case
  (``.CSV``, ``.Csv.GZ``), ``_SUCCESS`` and ``.crc`` files to pass over and a
  ``readme.txt`` the run reports as ignored (a 0-byte file only on request).
"""
from __future__ import annotations

import logging
import math
import random
import re

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from jobs.contract import SourceSpec
from jobs.generate.common import ID_CHECK, U
from jobs.generate.forms import Written
from jobs.generate.profiles import FileProfile, SourceProfile

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------
# Dirt (Spark, background rows)
# ---------------------------------------------------------------------------------
def _fullwidth(c: str) -> str:
    return f"translate({c}, '0123456789X', '０１２３４５６７８９Ｘ')"


def id_form_sql(col: str, u: str) -> str:
    """A valid dirty form of an 18-character ID chosen by the uniform ``u`` in [0, 1)."""
    id15 = f"concat(substring({col}, 1, 6), substring({col}, 9, 9))"
    spaced = (f"concat(' ', substring({col}, 1, 6), '\u3000', substring({col}, 7, 8), ' ',"
              f" substring({col}, 15, 4), '\u00a0')")
    return (f"CASE WHEN {col} IS NULL THEN NULL "
            f"WHEN {u} < 0.35 AND substring({col}, 7, 2) = '19' THEN {id15} "
            f"WHEN {u} < 0.55 AND substring({col}, 18, 1) = 'X' THEN lower({col}) "
            f"WHEN {u} < 0.7 THEN {_fullwidth(col)} "
            f"WHEN {u} < 0.85 THEN {spaced} "
            f"ELSE concat(' ', {col}, ' ') END")


def bad_id_sql(col: str) -> str:
    """The same ID with a wrong check character (always invalid)."""
    last = f"substring({col}, 18, 1)"
    wrong = f"CASE {last} WHEN '0' THEN '1' WHEN 'X' THEN '0' ELSE cast((cast({last} as int) + 1) % 10 as string) END"
    return f"concat(substring({col}, 1, 17), CASE WHEN {last} = 'X' THEN '0' ELSE {wrong} END)"


def text_form_sql(col: str, u: str, rate: float) -> str:
    """Free text over two lines (LF, CRLF or a lone CR between them) or holding doubled
    quotes and a comma, for a share ``rate`` of the values (``u``: a uniform in [0, 1))."""
    forms = [f"concat({col}, '\\n', '(初中部)')", f"concat({col}, '\\r\\n', '(住院部)')",
             f"concat({col}, '\\r', '东区')", f"concat('\"', {col}, '\", 本部')"]
    branches = " ".join(f"WHEN {u} < {rate * (i + 1) / len(forms)} THEN {form}" for i, form in enumerate(forms))
    return f"CASE WHEN {col} IS NULL THEN NULL {branches} ELSE {col} END"


def date_form_sql(col: str, u: str) -> str:
    return (f"CASE WHEN {col} IS NULL THEN NULL WHEN {u} < 0.5 THEN replace({col}, '-', '/') "
            f"ELSE replace({col}, '-', '') END")


def with_dirt(df: DataFrame, spec: SourceSpec, profile: SourceProfile, batch: int, seed: int, rate: float,
              date_rate: float) -> DataFrame:
    """Background rows of delivery ``batch`` with dirt (see the module docstring); keeps ``_rk``."""
    if rate <= 0 and date_rate <= 0:
        return df
    typed, salt, loss_safe = profile.batches[batch].typed, f"b{batch}", profile.loss_safe
    s = f"{spec.name}:{salt}"
    key = spec.key[0]
    key_is_id = spec.columns[key].type == "id"
    req_ids = [c for c in spec.id_columns if spec.columns[c].required]
    opt_ids = [c for c in spec.id_columns if not spec.columns[c].required]
    req_dates = [c for c, cs in spec.columns.items() if cs.type == "date" and cs.required]
    windows: dict[str, str] = {}

    def u(name: str) -> str:
        """A uniform from a 16-bit window of a few hashes of the row key (one hash per 4 windows)."""
        if name not in windows:
            i = len(windows)
            windows[name] = f"(cast(shiftright(_h{i // 4}, {16 * (i % 4)}) & 65535 as double) / 65536.0)"
        return windows[name]

    dup = f"{u('dup')} < {rate / 2}"
    bad = f"{u('bad')} < {rate / 2}"
    conflict = f"{u('conflict')} < {rate / 10}"
    df = df.selectExpr("*", f"xxhash64({int(seed)}, '{s}:0', _rk) AS _h0")
    # (array_remove, not a lambda: this runs for every row of the largest sources)
    df = df.selectExpr("*", f"explode(array_remove(array(0, IF({dup}, 1, -1), IF({bad}, 2, -1),"
                            f" IF({conflict}, 3, -1), IF({conflict}, 4, -1)), -1)) AS _v")
    first_cols: dict[str, str] = {}
    # a fresh key for the conflicting pair
    if key_is_id:
        body = f"concat(substring({key}, 1, 14), '9', lpad(cast(50 + pmod(_rk, 50) as string), 2, '0'))"
        first_cols["_body"] = f"CASE WHEN _v >= 3 THEN {body} END"
    else:
        first_cols[key] = f"CASE WHEN _v >= 3 THEN concat({key}, 'C') ELSE {key} END"
    # conflicting content: the second row of the pair differs in one column
    other = [c for c in spec.columns if c != key and spec.columns[c].type in ("string", "decimal") and c not in spec.key]
    if other:
        c = other[0]
        if spec.columns[c].type == "decimal":
            first_cols[c] = (f"CASE WHEN _v = 4 THEN cast(coalesce(cast({c} as decimal(14,2)), 0) + 1 as "
                             f"{'decimal(14,2)' if typed else 'string'}) ELSE {c} END")
        else:
            first_cols[c] = f"CASE WHEN _v = 4 THEN concat(coalesce({c}, ''), '（更正）') ELSE {c} END"
    columns = df.columns
    df = df.selectExpr(*[f"`{c}`" for c in columns if c not in first_cols], *[f"{v} AS `{k}`" for k, v in first_cols.items()])
    if key_is_id:
        df = df.selectExpr(*[f"`{c}`" for c in df.columns if c not in (key, "_body")],
                           f"CASE WHEN _body IS NOT NULL THEN concat(_body, {ID_CHECK('_body')}) ELSE {key} END AS `{key}`")
    cols: dict[str, str] = {}
    # required IDs: bad copies (and, in loss-safe sources, some bad originals); valid forms
    invalid_here = "_v = 2" if not loss_safe else f"(_v = 2 OR (_v = 0 AND {u('lost')} < {rate / 4}))"
    use_bad_date = f"{u('which_bad')} < 0.3" if (req_dates and not typed) else "false"
    # a required column (neither an ID nor the key) left empty: MISSING_REQUIRED
    req_plain = [c for c, cs in spec.columns.items() if cs.required and cs.type != "id" and c not in spec.key]
    use_missing = f"({u('which_bad')} >= 0.3 AND {u('which_bad')} < 0.5)" if req_plain else "false"
    for c in req_ids:
        base = c
        first = c == req_ids[0]
        forms = id_form_sql(base, u(f"form:{c}"))
        valid_dirty = f"CASE WHEN {u(f'dirty:{c}')} < {rate * 3} THEN {forms} ELSE {base} END"
        if first:
            other_flaw = f"(({use_bad_date} OR {use_missing}) AND _v = 2)"
            cols[c] = f"CASE WHEN {invalid_here} AND NOT {other_flaw} THEN {bad_id_sql(base)} ELSE {valid_dirty} END"
        else:
            cols[c] = valid_dirty
    for c in opt_ids:
        forms = id_form_sql(c, u(f"form:{c}"))
        cols[c] = (f"CASE WHEN {c} IS NOT NULL AND {u(f'badopt:{c}')} < {rate / 2} THEN {bad_id_sql(c)} "
                   f"WHEN {u(f'dirty:{c}')} < {rate * 3} THEN {forms} ELSE {c} END")
    if not typed:
        for c, cs in spec.columns.items():
            if cs.type == "date":
                base = cols.get(c, c)
                form = f"CASE WHEN {u(f'dfmt:{c}')} < {date_rate} THEN {date_form_sql(base, u(f'dform:{c}'))} ELSE {base} END"
                if req_dates and c == req_dates[0]:
                    impossible = f"concat(substring({base}, 1, 4), CASE WHEN {u('imp')} < 0.5 THEN '-02-30' ELSE '-13-01' END)"
                    form = f"CASE WHEN _v = 2 AND {use_bad_date} THEN {impossible} ELSE {form} END"
                cols[c] = form
            elif cs.type == "month":
                base = cols.get(c, c)
                cols[c] = f"CASE WHEN {u(f'mfmt:{c}')} < {date_rate} THEN replace({base}, '-', '') ELSE {base} END"
    if req_plain:
        c = req_plain[-1]
        cols[c] = f"CASE WHEN _v = 2 AND {use_missing} THEN NULL ELSE {cols.get(c, c)} END"
    text = profile.text_with_breaks
    if text:
        cols[text] = text_form_sql(cols.get(text, text), u("text"), rate * 5)
    for c in profile.may_empty:
        base = cols.get(c, c)
        cols[c] = f"CASE WHEN _v < 3 AND {u(f'empty:{c}')} < {rate} THEN NULL ELSE {base} END"
    n_hashes = (len(windows) + 3) // 4
    df = df.selectExpr("*", *[f"xxhash64({int(seed)}, '{s}:{i}', _rk) AS _h{i}" for i in range(1, n_hashes)])
    keep = [c for c in df.columns if c not in cols]
    out = df.selectExpr(*keep, *[f"{sql} AS `{name}`" for name, sql in cols.items()])
    return out.select(*[c for c in columns if c != "_v" and not re.fullmatch(r"_h\d+", c)])


# ---------------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------------
def format_for_file(df: DataFrame, spec: SourceSpec, profile: FileProfile, seed: int, salt: str) -> DataFrame:
    """Enum values, header names and column order as the file profile says."""
    rng = random.Random(f"{seed}:{spec.name}:{salt}")
    exprs = []
    names = list(spec.columns)
    if profile.shuffle:
        rng.shuffle(names)
    for c in names:
        cs = spec.columns[c]
        if profile.typed and cs.type == "date":
            expr = f"to_date({c})"
        elif profile.typed and cs.type == "decimal":
            expr = f"cast({c} as decimal(14,2))"
        elif profile.typed and cs.type == "int":
            expr = f"cast({c} as int)"
        elif cs.type == "enum" and profile.values != "code" and cs.value_aliases:
            by_code: dict[str, list[str]] = {}
            for zh, code in cs.value_aliases.items():
                by_code.setdefault(code, []).append(zh)
            u = U(seed, f"{spec.name}:{salt}:val:{c}", "_rk")
            branches = " ".join(
                f"WHEN '{code}' THEN element_at(split('{','.join(zhs)}', ','), cast(floor({u} * {len(zhs)}) as int) + 1)"
                for code, zhs in sorted(by_code.items()))
            alias = f"coalesce(CASE {c} {branches} END, {c})"
            if profile.values == "alias":
                expr = alias
            else:
                u2 = U(seed, f"{spec.name}:{salt}:mix:{c}", "_rk")
                expr = f"CASE WHEN {u2} < 0.5 THEN {alias} WHEN {u2} < 0.6 THEN lower({c}) ELSE {c} END"
        else:
            expr = c
        if profile.headers == "alias" and cs.aliases:
            header = cs.aliases[0]
        elif profile.headers == "mixed" and cs.aliases and rng.random() < 0.5:
            header = rng.choice(cs.aliases)
        elif profile.headers == "mixed":
            header = rng.choice([c, c.upper(), f" {c} "])
        else:
            header = c
        exprs.append(f"{expr} AS `{header}`")
    return df.selectExpr(*exprs)


# ---------------------------------------------------------------------------------
# Writing and moving files (Hadoop FileSystem: any URI)
# ---------------------------------------------------------------------------------
class Files:
    def __init__(self, spark: SparkSession, out: str):
        self.spark = spark
        jvm = spark._jvm
        self.Path = jvm.org.apache.hadoop.fs.Path
        self.conf = spark._jsc.hadoopConfiguration()
        self.out = out.rstrip("/")
        self.fs = self.Path(self.out).getFileSystem(self.conf)
        self.written: list[Written] = []      # every data file written, in order (jobs.generate.forms)

    def path(self, *parts: str):
        return self.Path("/".join([self.out, *parts]))

    def delete(self, *parts: str) -> None:
        p = self.path(*parts)
        if self.fs.exists(p):
            self.fs.delete(p, True)

    def write_text(self, rel: str, text: str) -> None:
        stream = self.fs.create(self.path(rel), True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()
        self._drop_crc(self.path(rel))

    def _drop_crc(self, p) -> None:
        crc = self.Path(p.getParent(), "." + p.getName() + ".crc")
        if self.fs.exists(crc):
            self.fs.delete(crc, False)

    def write(self, df: DataFrame, source: str, batch: str, stem: str, profile: FileProfile,
              n_files: int, tmp: str) -> int:
        """Write ``df`` as the batch's file(s); returns the number of rows written."""
        obs = Observation(f"rows_{source}_{batch}")
        df = df.observe(obs, F.count(F.lit(1)).alias("rows"))
        df = df.coalesce(max(1, n_files))
        tmp_rel = f"{tmp}/{source}/{batch}"
        tmp_path = "/".join([self.out, tmp_rel])
        if profile.format == "parquet":
            df.write.mode("overwrite").parquet(tmp_path)
        else:
            if profile.encoding == "UTF-8-BOM":
                first = df.columns[0]
                df = df.withColumnRenamed(first, "\ufeff" + first)
            writer = (df.write.mode("overwrite")
                      .option("header", True)
                      .option("encoding", "GB18030" if profile.encoding == "GB18030" else "UTF-8")
                      .option("quote", '"').option("escape", '"')
                      .option("ignoreLeadingWhiteSpace", False).option("ignoreTrailingWhiteSpace", False)
                      .option("lineSep", "\n"))
            if profile.format == "csv.gz":
                writer = writer.option("compression", "gzip")
            writer.csv(tmp_path)
        parts = sorted(str(st.getPath().getName()) for st in self.fs.listStatus(self.path(tmp_rel))
                       if str(st.getPath().getName()).startswith("part-"))
        target_dir = self.path(source, batch)
        self.fs.mkdirs(target_dir)
        for i, name in enumerate(parts):
            final = f"{stem}.{profile.ext}" if len(parts) == 1 else f"{stem}-{i + 1:03d}.{profile.ext}"
            dst = self.Path(target_dir, final)
            if self.fs.exists(dst):
                self.fs.delete(dst, False)
            self.fs.rename(self.Path(self.path(tmp_rel), name), dst)
            self._drop_crc(dst)
            self.written.append(Written(source, batch, final, profile, len(parts)))
        self.delete(tmp_rel)
        return int(obs.get["rows"])


def n_files_for(rows_estimate: float, rows_per_file: int) -> int:
    return max(1, math.ceil(rows_estimate / rows_per_file))
