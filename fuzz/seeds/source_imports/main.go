package main

import (
	"fmt"
	x "golang.org/x/crypto/ssh" // c
	_ "github.com/lib/pq"
)
/* import "a"
*/
import ( "a"; "b" )
func main() { fmt.Println(x.Dial) }
