"""Configuration: overlays, validation with errors that name the key, CLI exit status 2."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from jobs.cli import main
from jobs.config import ConfigError, load_config


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
    local = xx_options(load_config("local").spark.conf["spark.driver.extraJavaOptions"])
    cluster = xx_options(load_config("cluster").spark.conf["spark.executor.extraJavaOptions"])
    for name in ("DontCompileHugeMethods", "MaxNodeLimit", "NodeLimitFudgeFactor"):
        assert cluster.get(name) == local[name], name
    for options in (local, cluster):
        limit, fudge = int(options["MaxNodeLimit"]), int(options["NodeLimitFudgeFactor"])
        assert 0.02 * limit <= fudge <= 0.40 * limit


def test_the_local_driver_runs_with_the_jvm_flags_of_local_yaml(spark, cfg):
    """Every -XX:+Flag, -XX:-Flag and -XX:Flag=value of local.yaml's driver options is in
    effect in the session's JVM (options given too late, after the JVM started, would be
    ignored)."""
    expected = xx_options(cfg.spark.conf["spark.driver.extraJavaOptions"])
    assert expected["UseParallelGC"] == "true" and expected["MaxNodeLimit"] == "240000"
    jvm = spark.sparkContext._jvm
    bean = jvm.java.lang.management.ManagementFactory.getPlatformMXBean(
        jvm.java.lang.Class.forName("com.sun.management.HotSpotDiagnosticMXBean"))
    for name, value in expected.items():
        assert bean.getVMOption(name).getValue() == value, name
