#!/usr/bin/env bash
# Redraws the README's pictures of the bundled plan: the Summary as LibreOffice prints it, the plan chart, and
# the web app as the browser test sees it (docs/app.png).
# Needs LibreOffice (soffice), poppler (pdftoppm) and Chromium. Run from the repository root: bash docs/pictures.sh
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sourcing solve -o "$work/plan.xlsx" >/dev/null
python -c "import optimizer as so; so.plan_figure(so.solve(so.bundled_instance()), 'docs/plan_chart.png')"
soffice -env:UserInstallation=file://"$work"/profile --headless --convert-to pdf --outdir "$work" "$work/plan.xlsx" >/dev/null
pdftoppm -png -r 110 -f 1 -l 1 -singlefile "$work/plan.pdf" docs/summary
SOURCING_SCREENSHOT=1 python -m pytest -q -p no:cacheprovider tests/test_browser.py >/dev/null
