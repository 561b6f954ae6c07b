# The two commands of the README's quick start, plus a few conveniences. npm scripts do the work; these targets only
# make sure dependencies are installed first, so that a fresh clone needs nothing else.
.PHONY: start test deps services-up services-down services-status bench

start: deps
	npm start

test:
	bash scripts/test.sh

deps:
	bash scripts/ensure-deps.sh

services-up:
	bash scripts/services.sh up

services-down:
	bash scripts/services.sh down

services-status:
	bash scripts/services.sh status

bench: deps
	npm run bench
