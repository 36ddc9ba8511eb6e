from hotpath.cli import run

run()
