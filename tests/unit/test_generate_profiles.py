"""Generator profiles (conf/generate/<source>.yaml): loaded in the contract's order, one per
generated source, each with its background method; a bad file is a ConfigError naming
the file and the key (no Spark)."""
from __future__ import annotations

import shutil
import zipfile

import pytest
import yaml

from jobs.config import CONF_DIR
from jobs.errors import ConfigError
from jobs.generate.background import Background
from jobs.generate.profiles import load_profiles


def test_every_generated_source_has_a_profile_in_the_contracts_order(cfg):
    profiles = load_profiles(cfg.contract)
    assert list(profiles) == [s for s in cfg.contract.names if s != "feedback"]
    for source, p in profiles.items():
        assert p.source == source and set(p.batches) == {1, 2}
        assert callable(getattr(Background, source)), source
        spec = cfg.contract[source]
        assert all(not spec.columns[c].required and c not in spec.key for c in p.may_empty), source
    assert profiles["payments"].batches[1].typed and profiles["payments"].batches[1].format == "parquet"
    assert profiles["payments"].spread.input == "spells" and profiles["medical"].spread.input == "people"
    assert profiles["medical"].correction.where == "pmod(_rk, 64) = 1"
    assert profiles["education"].text_with_breaks == "school" and profiles["education"].loss_safe
    assert profiles["payments"].volume > profiles["medical"].volume > profiles["household"].volume > 0
    # a lost contribution could make INCOME_COLLAPSE fire; a lost monitoring or disaster row never fires one
    assert not profiles["social_insurance"].loss_safe and profiles["social_insurance"].text_with_breaks == "employer"
    assert profiles["rural_monitoring"].loss_safe and profiles["disasters"].loss_safe
    assert profiles["social_insurance"].batches[2].typed and profiles["social_insurance"].spread.input == "people"


def test_profiles_load_from_conf_inside_a_zip(cfg, tmp_path):
    archive = tmp_path / "hedui.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((CONF_DIR / "generate").iterdir()):
            zf.write(path, f"conf/generate/{path.name}")
    inside = zipfile.Path(archive, at="conf/")
    assert load_profiles(cfg.contract, inside) == load_profiles(cfg.contract)


@pytest.fixture
def conf(tmp_path):
    """A copy of conf/generate/ to spoil; edit(source, fn) rewrites one file's YAML."""
    shutil.copytree(CONF_DIR / "generate", tmp_path / "generate")

    def edit(source, fn):
        path = tmp_path / "generate" / f"{source}.yaml"
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        fn(raw)
        path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        return tmp_path

    return edit


def put(key, value):
    def fn(raw):
        node = raw
        *path, last = key
        for k in path:
            node = node[k]
        node[last] = value
    return fn


def drop(*key):
    def fn(raw):
        node = raw
        *path, last = key
        for k in path:
            node = node[k]
        del node[last]
    return fn


@pytest.mark.parametrize("source, change, message", [
    ("tax", put(("colour",), "red"), r"tax\.yaml: colour: unknown key"),
    ("tax", drop("loss_safe"), r"tax\.yaml: loss_safe: required key is missing"),
    ("deaths", drop("correction"), r"deaths\.yaml: correction: required key is missing"),
    ("tax", drop("batches", 2), r"tax\.yaml: batches\.2: required key is missing"),
    ("tax", put(("batches", 3), {"format": "csv"}), r"tax\.yaml: batches\.3: unknown key"),
    ("tax", put(("batches", 1, "colour"), "red"), r"tax\.yaml: batches\.1\.colour: unknown key"),
    ("tax", drop("batches", 1, "format"), r"tax\.yaml: batches\.1\.format: required key is missing"),
    ("tax", put(("batches", 1, "format"), "xlsx"), r"tax\.yaml: batches\.1\.format: expected one of csv, csv\.gz, parquet"),
    ("tax", put(("batches", 2, "encoding"), "UTF-16"), r"tax\.yaml: batches\.2\.encoding: expected one of"),
    ("deaths", put(("batches", 1, "encoding"), "UTF-8"), r"deaths\.yaml: batches\.1\.encoding: a parquet file has no text"),
    ("tax", put(("batches", 1, "typed"), True), r"tax\.yaml: batches\.1\.typed: only a parquet file"),
    ("tax", put(("volume",), "many"), r"tax\.yaml: volume: expected a number"),
    ("tax", put(("loss_safe",), "yes"), r"tax\.yaml: loss_safe: expected true or false"),
    ("tax", put(("may_empty",), ["tax_paid", "colour"]), r"tax\.yaml: may_empty\[1\]: 'colour' is not a column"),
    ("tax", put(("may_empty",), ["income"]), r"tax\.yaml: may_empty\[0\]: 'income' is required or part of the key"),
    ("education", put(("text_with_breaks",), "motto"), r"education\.yaml: text_with_breaks: 'motto' is not a column"),
    ("medical", put(("spread", "input"), "households"), r"medical\.yaml: spread\.input: expected one of people, spells"),
    ("medical", drop("spread", "key"), r"medical\.yaml: spread\.key: required key is missing"),
    ("medical", drop("correction", "where"), r"medical\.yaml: correction\.where: required key is missing"),
    ("deaths", put(("correction", "columns", "colour"), "'red'"), r"deaths\.yaml: correction\.columns\.colour: 'colour' is not a column"),
])
def test_a_bad_profile_names_the_file_and_the_key(cfg, conf, source, change, message):
    with pytest.raises(ConfigError, match=message):
        load_profiles(cfg.contract, conf(source, change))


def test_a_profile_of_a_source_the_contract_does_not_know_is_refused(cfg, conf, tmp_path):
    root = conf("tax", lambda raw: None)
    shutil.copy(root / "generate" / "tax.yaml", root / "generate" / "taxes.yaml")
    with pytest.raises(ConfigError, match=r"taxes\.yaml: no source 'taxes' in the contract"):
        load_profiles(cfg.contract, root)


def test_a_source_without_a_profile_is_not_generated(cfg, conf):
    root = conf("tax", lambda raw: None)
    (root / "generate" / "tax.yaml").unlink()
    assert "tax" not in load_profiles(cfg.contract, root)
    with pytest.raises(ConfigError, match="generator profiles folder not found"):
        load_profiles(cfg.contract, root / "nowhere")
