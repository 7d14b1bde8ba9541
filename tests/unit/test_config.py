"""Configuration: overlays, validation with errors that name the key, CLI exit status 2."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from jobs.cli import main
from jobs.config import load_config
from jobs.errors import ConfigError
from jobs.spark.session import session_conf
from jobs.spark.workarounds import DRIVER_JAVA_OPTIONS, EXECUTOR_JAVA_OPTIONS


def write(tmp_path, text: str):
    path = tmp_path / "extra.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_overlays_and_extra_file(tmp_path):
    local = load_config("local")
    assert local.spark.master == "local[2]"
    assert local.ingest.parallel_sources == 4
    cluster = load_config("cluster")
    assert cluster.spark.master is None
    extra = load_config("local", write(tmp_path, "ingest:\n  parallel_sources: 1\n"))
    assert extra.ingest.parallel_sources == 1
    assert extra.ingest.sniff_bytes == local.ingest.sniff_bytes   # merged key by key


@pytest.mark.parametrize("text, key", [
    ("ingest:\n  parallel_sources: 0\n", "ingest.parallel_sources"),
    ("ingest:\n  paralel_sources: 2\n", "ingest.paralel_sources"),
    ("ingest:\n  sniff_bytes: lots\n", "ingest.sniff_bytes"),
    ("nonsense: 1\n", "nonsense"),
])
def test_bad_values_name_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as err:
        load_config("local", write(tmp_path, text))
    assert key in str(err.value)


@pytest.mark.parametrize("text, message", [
    ("rules:\n  rules:\n    PROVIDENT_FUND:\n      params: {pf_min_month: 3}\n",
     "rules.rules.PROVIDENT_FUND.params.pf_min_month: unknown parameter of provident_fund"),
    ("rules:\n  rules:\n    HIGH_INCOME:\n      params: {income_threshold: lots}\n",
     "rules.rules.HIGH_INCOME.params.income_threshold: expected a number"),
    ("rules:\n  rules:\n    EXCLUSIVE_PROGRAMS:\n      params: {exclusive_pairs: [[DIBAO, TEKUN, ORPHAN]]}\n",
     "rules.rules.EXCLUSIVE_PROGRAMS.params.exclusive_pairs[0]: expected a list of 2"),
    ("rules:\n  rules:\n    NO_SUCH_RULE: {category: PAYMENT, base_score: 10, name_zh: 无}\n",
     "rules.rules.NO_SUCH_RULE: no rule function"),
    ("rules:\n  rules:\n    DECEASED: {category: NOWHERE}\n", "rules.rules.DECEASED.category"),
    ("rules:\n  shared: {lookback_month: 12}\n", "rules.shared.lookback_month"),
])
def test_a_rules_entry_is_checked_against_its_function(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message.replace("[", "\\[").replace(".", "\\.")):
        load_config("local", write(tmp_path, text))


def test_a_missing_rule_parameter_names_the_rule():
    from jobs.rules.registry import RULES, build_rules
    raw = {"categories": {"INELIGIBLE": "x"}, "rules": {
        "PROVIDENT_FUND": {"category": "INELIGIBLE", "base_score": 50, "name_zh": "x", "params": {"pf_min_months": 3}}}}
    with pytest.raises(ConfigError, match="PROVIDENT_FUND.params.pf_window_months: missing parameter"):
        build_rules(raw, {"PROVIDENT_FUND": RULES["PROVIDENT_FUND"]})
    raw["rules"]["PROVIDENT_FUND"]["params"]["pf_window_months"] = 6
    with pytest.raises(ConfigError, match="rules.rules.DECEASED: a rule function without an entry"):
        build_rules(raw, {"PROVIDENT_FUND": RULES["PROVIDENT_FUND"], "DECEASED": RULES["DECEASED"]})
    assert build_rules(raw, {"PROVIDENT_FUND": RULES["PROVIDENT_FUND"]}).params("PROVIDENT_FUND") == \
        {"pf_min_months": 3, "pf_window_months": 6}


def test_unknown_environment():
    with pytest.raises(ConfigError, match="--env"):
        load_config("production")


def test_cli_exits_2_on_a_bad_configuration_and_writes_nothing(tmp_path):
    warehouse = tmp_path / "warehouse"
    result = CliRunner().invoke(main, ["run", "--landing", str(tmp_path / "landing"), "--warehouse", str(warehouse),
                                       "--conf", str(write(tmp_path, "ingest:\n  parallel_sources: -1\n"))])
    assert result.exit_code == 2, result.output
    assert "ingest.parallel_sources" in result.output
    assert not warehouse.exists()


def xx_options(java_options: str) -> dict[str, str]:
    """-XX:+Flag, -XX:-Flag and -XX:Flag=value as HotSpot reports them ("true", "false", value)."""
    options = {}
    for option in java_options.split():
        if option.startswith(("-XX:+", "-XX:-")):
            options[option[5:]] = "true" if option[4] == "+" else "false"
        elif option.startswith("-XX:") and "=" in option:
            name, value = option[4:].split("=", 1)
            options[name] = value
    return options


def test_cluster_executors_get_the_jit_options_of_the_local_driver():
    """The executors on a cluster run the same generated code as the local driver: the
    same JIT options, and a C2 node budget HotSpot accepts (it refuses to start when the
    fudge factor is outside 2-40 % of the node limit)."""
    local = xx_options(session_conf(load_config("local").spark)[DRIVER_JAVA_OPTIONS])
    cluster = xx_options(session_conf(load_config("cluster").spark)[EXECUTOR_JAVA_OPTIONS])
    for name in ("DontCompileHugeMethods", "MaxNodeLimit", "NodeLimitFudgeFactor"):
        assert cluster.get(name) == local[name], name
    for options in (local, cluster):
        limit, fudge = int(options["MaxNodeLimit"]), int(options["NodeLimitFudgeFactor"])
        assert 0.02 * limit <= fudge <= 0.40 * limit


def test_the_local_driver_runs_with_the_jvm_flags_of_local_yaml(spark, cfg):
    """Every -XX:+Flag, -XX:-Flag and -XX:Flag=value of local.yaml's driver options is in
    effect in the session's JVM (options given too late, after the JVM started, would be
    ignored)."""
    expected = xx_options(session_conf(cfg.spark)[DRIVER_JAVA_OPTIONS])
    assert expected["UseParallelGC"] == "true" and expected["MaxNodeLimit"] == "240000"
    jvm = spark.sparkContext._jvm
    bean = jvm.java.lang.management.ManagementFactory.getPlatformMXBean(
        jvm.java.lang.Class.forName("com.sun.management.HotSpotDiagnosticMXBean"))
    for name, value in expected.items():
        assert bean.getVMOption(name).getValue() == value, name
