"""devtools is for development only: production settings never install it, and no app of the
product imports it."""

import ast

from tests.test_guards import PRODUCTION_ENV, ROOT, manage

PROBE = (
    "from django.apps import apps; from django.core.management import get_commands; "
    "commands = get_commands(); "
    "print(apps.is_installed('devtools'), 'seed_scale' in commands, 'benchmark' in commands)"
)


def test_production_settings_do_not_install_devtools_or_its_commands():
    result = manage("shell", "-c", PROBE, env_overrides=PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["False", "False", "False"]


def test_local_settings_install_devtools_and_its_commands():
    result = manage("shell", "-c", PROBE, env_overrides={"DATABASE_URL": "sqlite:///:memory:"})

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["True", "True", "True"]


def test_no_product_app_imports_devtools():
    importers = []
    for app in ["config", "cms", "accounts", "training", "quizzes"]:
        for path in (ROOT / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                else:
                    continue
                if any(name == "devtools" or name.startswith("devtools.") for name in names):
                    importers.append(str(path.relative_to(ROOT)))

    assert importers == []
