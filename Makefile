.PHONY: up test bench lint
up:      ## start API, worker, Redis, SQLite, demo course
	scripts/up.sh
test:    ## install what is needed and run the whole suite
	scripts/test.sh
bench:   ## print throughput and latency figures
	scripts/install.sh && python3 bench/run_all.py
lint:    ## unused imports, undefined names
	python3 -m ruff check --select F --ignore F811 packages graders services tests bench  # F811: pytest fixtures imported by name
