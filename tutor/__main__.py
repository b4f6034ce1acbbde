from tutor.cli.main import main

main()
