// Command wsim is an offline emulator of the Amazon WorkSpaces API.
package main

import (
	"os"

	"github.com/wsim/wsim/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
