from hotpath._entry import run

run()
