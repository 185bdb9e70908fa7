from microcred.cli import main

main()
