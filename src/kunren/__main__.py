from kunren.cli import main

main()
