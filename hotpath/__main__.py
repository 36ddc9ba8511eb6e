try:
    from hotpath.cli import run
except KeyboardInterrupt:  # Ctrl-C while the command is still loading
    import sys

    sys.stderr.write("hotpath: interrupted\n")
    sys.exit(130)

run()
