"""hedui (核对): social-assistance verification on Apache Spark and Delta Lake."""
from setuptools import find_packages, setup

setup(
    name="hedui",
    version="0.1.0",
    description="Verification of social-assistance rolls against departmental data (Spark + Delta Lake)",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["jobs", "jobs.*"]),
    include_package_data=True,
    package_data={"jobs.web": ["templates/*.html", "static/*"]},
    install_requires=[
        "pyspark==4.2.0",
        # The Python wrapper; its jar (io.delta:delta-spark_4.2_2.13) comes from Maven at the
        # same version (scripts/setup.sh checks): 4.4.0 is the newest Maven Central serves.
        "delta-spark==4.4.0",
        "pyyaml>=6.0",
        "click>=8.1",
        # Charts for `hedui report`: the standard plotting library, renders PNG offline
        # with a CJK font; hand-drawn SVG would be more code and worse charts.
        "matplotlib>=3.8",
        # delta-rs: reads the Delta tables without a JVM, so that a run with nothing new is
        # decided (and recorded) before Spark starts (jobs/runstate.py), and `hedui serve`
        # (jobs/web) reads the warehouse into Arrow and writes its own tables (meta/users,
        # meta/audit) readable by Spark; readers downstream use it too (contract s.4)
        "deltalake>=1.0",
        "pyarrow>=15",
        # The review page: Flask (Jinja2 templates, signed session cookies through
        # itsdangerous, a test client) served by waitress, a pure-Python production server.
        "flask>=3.0",
        "waitress>=3.0",
        # Password hashing of the page's accounts (argon2id).
        "argon2-cffi>=23.1",
    ],
    extras_require={
        "dev": [
            "pytest>=8",
            "chispa>=0.10",
            # Executes the notebooks in the test suite.
            "nbformat>=5.9",
            "nbclient>=0.10",
            "ipykernel>=6.29",
            # Property-based differential test of the CSV reader against Python's csv module.
            "hypothesis>=6.100",
            # The review page's real-browser test, driving Debian's chromium (executable_path);
            # `playwright install` is never run (no browser download).
            "playwright>=1.45",
        ],
        # scripts/benchmark.sh only: the engine a bureau might pick instead, reading the same
        # files into Parquet, as a yardstick for hedui's figures (issue 24)
        "bench": ["duckdb>=1.1"],
    },
    entry_points={"console_scripts": ["hedui=jobs.cli:main"]},
)
