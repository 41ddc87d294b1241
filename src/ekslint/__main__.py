import sys

from ekslint.cli import main

sys.exit(main())
