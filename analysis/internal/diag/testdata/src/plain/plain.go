package plain

func bad() int { return 0 }

func Line() {
	bad() // want `CG013: call of bad`
	bad() //cgoguard:ignore CG013 the test says so
	//cgoguard:ignore CG013 covers the next line
	bad()
	bad() // want `CG013: call of bad`
	//cgoguard:ignore CG014 another rule
	bad() // want `CG013: call of bad`
	bad() /* want `CG013: call of bad` */ //cgoguard:ignore CG013
}

func Statement() {
	//cgoguard:ignore CG013 whole loop
	for i := 0; i < 3; i++ {
		if i > 1 {
			bad()
		}
	}
	x := []int{
		bad(), //cgoguard:ignore CG013,CG014 several rules
		bad(), // want `CG013: call of bad`
	}
	_ = x
}

// Function has its findings suppressed.
//
//cgoguard:ignore CG013 legacy code
func Function() {
	bad()
	func() {
		bad()
	}()
}
