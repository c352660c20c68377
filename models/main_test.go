package models_test

import (
	"flag"
	"os"
	"testing"

	"github.com/parleydesk/parley/models"
)

// defaultParallel is how many parallel tests run at once unless -parallel
// says otherwise. Go's default is GOMAXPROCS, but each test mostly waits on
// PostgreSQL (its own cloned database), not on the CPU.
const defaultParallel = "8"

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		if err := flag.Set("test.parallel", defaultParallel); err != nil {
			panic(err)
		}
	}
	// Users are made with cheap hashes; TestPasswordHashing checks the
	// production cost.
	models.UseCheapPasswordHashes()
	os.Exit(m.Run())
}
