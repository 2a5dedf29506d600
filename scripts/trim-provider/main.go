// Command trim-provider rewrites a copy of the terraform-provider-aws module so that it registers
// only the service packages that serve a given list of resource and data source types, and
// compiles only the AWS SDK clients those packages use.
//
// The provider compiles every AWS service because two generated files name them all:
//   - internal/provider/sdkv2/service_packages_gen.go registers every internal/service/<pkg>;
//   - internal/conns/awsclient_gen.go has an accessor (EC2Client, KMSClient, ...) per SDK client,
//     importing every github.com/aws/aws-sdk-go-v2/service/<client>.
//
// This program edits only those two files, and only by deleting entries: the registration of each
// service package that serves none of the types, and each client accessor that no package left in
// the build calls. Resource code is the provider's own, unchanged.
//
//	go run scripts/trim-provider/main.go -module DIR -types FILE
//
// FILE lists one type a line (`aws_ami_copy`); `#` starts a comment. A type that no service package
// registers is an error naming it. On success it prints the service packages kept, one a line.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"go/ast"
	"go/build"
	"go/format"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

const (
	modulePath       = "github.com/hashicorp/terraform-provider-aws"
	servicePkgPrefix = modulePath + "/internal/service/"
	registryFile     = "internal/provider/sdkv2/service_packages_gen.go"
	clientsFile      = "internal/conns/awsclient_gen.go"
)

func main() {
	module := flag.String("module", "", "a writable copy of the terraform-provider-aws module")
	typesFile := flag.String("types", "", "the resource and data source types to serve, one a line")
	flag.Parse()
	if *module == "" || *typesFile == "" {
		fail("usage: trim-provider -module DIR -types FILE")
	}
	types, err := readTypes(*typesFile)
	if err != nil {
		fail("%s: %v", *typesFile, err)
	}
	registrars, err := typeRegistrars(*module)
	if err != nil {
		fail("%v", err)
	}
	keep := map[string]bool{}
	var unknown []string
	for _, t := range types {
		pkgs := registrars[t]
		if len(pkgs) == 0 {
			unknown = append(unknown, t)
		}
		for _, p := range pkgs {
			keep[p] = true
		}
	}
	if len(unknown) > 0 {
		fail("%s: no service package of %s registers %s; check the type's spelling", *typesFile, modulePath, strings.Join(unknown, ", "))
	}
	if err := trimRegistry(filepath.Join(*module, registryFile), keep); err != nil {
		fail("%v", err)
	}
	called, err := calledAccessors(*module)
	if err != nil {
		fail("%v", err)
	}
	if err := trimClients(filepath.Join(*module, clientsFile), called); err != nil {
		fail("%v", err)
	}
	for _, p := range slices.Sorted(maps.Keys(keep)) {
		fmt.Println(p)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "trim-provider: "+format+"\n", args...)
	os.Exit(1)
}

func readTypes(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var types []string
	scanner := bufio.NewScanner(f)
	for line := 1; scanner.Scan(); line++ {
		t := strings.TrimSpace(strings.SplitN(scanner.Text(), "#", 2)[0])
		if t == "" {
			continue
		}
		if !regexp.MustCompile(`^aws_[a-z0-9_]+$`).MatchString(t) {
			return nil, fmt.Errorf("line %d: %q is not a resource type (aws_...)", line, t)
		}
		types = append(types, t)
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	if len(types) == 0 {
		return nil, fmt.Errorf("lists no type")
	}
	return types, nil
}

// typeRegistrars maps each type to the service packages whose generated registration names it.
func typeRegistrars(module string) (map[string][]string, error) {
	files, err := filepath.Glob(filepath.Join(module, "internal/service/*/service_package_gen.go"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("%s: no internal/service/*/service_package_gen.go (is it the provider module?)", module)
	}
	typeName := regexp.MustCompile(`TypeName:\s+"(aws_[a-z0-9_]+)"`)
	registrars := map[string][]string{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		pkg := filepath.Base(filepath.Dir(f))
		for _, m := range typeName.FindAllSubmatch(src, -1) {
			t := string(m[1])
			if !slices.Contains(registrars[t], pkg) {
				registrars[t] = append(registrars[t], pkg)
			}
		}
	}
	return registrars, nil
}

// trimRegistry drops the imports and the `<pkg>.ServicePackage(ctx)` entries of the packages not kept.
func trimRegistry(path string, keep map[string]bool) error {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return err
	}
	entries := 0
	ast.Inspect(file, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		kept := lit.Elts[:0]
		for _, e := range lit.Elts {
			pkg, ok := servicePackageCall(e)
			if !ok {
				kept = append(kept, e)
				continue
			}
			entries++
			if keep[pkg] {
				kept = append(kept, e)
			}
		}
		lit.Elts = kept
		return false
	})
	if entries == 0 {
		return fmt.Errorf("%s: found no <pkg>.ServicePackage(ctx) entries; the generated file changed shape", path)
	}
	dropImports(file, func(importPath string) bool {
		return strings.HasPrefix(importPath, servicePkgPrefix) && !keep[strings.TrimPrefix(importPath, servicePkgPrefix)]
	})
	return writeFile(path, fset, file)
}

// servicePackageCall returns pkg for an element `pkg.ServicePackage(ctx)`.
func servicePackageCall(e ast.Expr) (string, bool) {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return "", false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "ServicePackage" {
		return "", false
	}
	if pkg, ok := sel.X.(*ast.Ident); ok {
		return pkg.Name, true
	}
	return "", false
}

// calledAccessors returns the names of the *Client selectors used by the packages the provider's
// main package imports, transitively within the module, outside the accessors' own file.
func calledAccessors(module string) (map[string]bool, error) {
	ctx := build.Default
	ctx.CgoEnabled = false
	called := map[string]bool{}
	seen := map[string]bool{}
	queue := []string{"."}
	for len(queue) > 0 {
		rel := queue[0]
		queue = queue[1:]
		if seen[rel] {
			continue
		}
		seen[rel] = true
		dir := filepath.Join(module, rel)
		pkg, err := ctx.ImportDir(dir, 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", dir, err)
		}
		for _, imp := range pkg.Imports {
			if imp == modulePath || strings.HasPrefix(imp, modulePath+"/") {
				queue = append(queue, "."+strings.TrimPrefix(imp, modulePath))
			}
		}
		for _, name := range pkg.GoFiles {
			if filepath.Join(rel, name) == clientsFile {
				continue
			}
			file, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, 0)
			if err != nil {
				return nil, err
			}
			ast.Inspect(file, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok && strings.HasSuffix(sel.Sel.Name, "Client") {
					called[sel.Sel.Name] = true
				}
				return true
			})
		}
	}
	return called, nil
}

// trimClients drops the AWSClient accessors nobody calls, then the SDK imports only they used.
func trimClients(path string, called map[string]bool) error {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return err
	}
	accessors := 0
	kept := file.Decls[:0]
	for _, d := range file.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if ok && fn.Recv != nil && strings.HasSuffix(fn.Name.Name, "Client") {
			accessors++
			if !called[fn.Name.Name] {
				continue
			}
		}
		kept = append(kept, d)
	}
	file.Decls = kept
	if accessors == 0 {
		return fmt.Errorf("%s: found no (*AWSClient) <Name>Client accessors; the generated file changed shape", path)
	}
	// Only the header's comments: those of dropped functions would be printed in their place.
	header := file.Comments[:0]
	for _, c := range file.Comments {
		if c.Pos() < file.Package {
			header = append(header, c)
		}
	}
	file.Comments = header
	used := map[string]bool{}
	ast.Inspect(file, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		}
		return true
	})
	dropImports(file, func(importPath string) bool { return !used[filepath.Base(importPath)] })
	return writeFile(path, fset, file)
}

// dropImports removes the import specs for which drop is true (the files' imports carry no alias).
func dropImports(file *ast.File, drop func(string) bool) {
	for _, d := range file.Decls {
		gen, ok := d.(*ast.GenDecl)
		if !ok || gen.Tok != token.IMPORT {
			continue
		}
		specs := gen.Specs[:0]
		for _, s := range gen.Specs {
			p, _ := strconv.Unquote(s.(*ast.ImportSpec).Path.Value)
			if !drop(p) {
				specs = append(specs, s)
			}
		}
		gen.Specs = specs
	}
	imports := file.Imports[:0]
	for _, s := range file.Imports {
		p, _ := strconv.Unquote(s.Path.Value)
		if !drop(p) {
			imports = append(imports, s)
		}
	}
	file.Imports = imports
}

func writeFile(path string, fset *token.FileSet, file *ast.File) error {
	var out strings.Builder
	if err := format.Node(&out, fset, file); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	// Reformat from text: positions of deleted nodes leave blank runs that gofmt folds.
	src, err := format.Source([]byte(out.String()))
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return os.WriteFile(path, src, 0o644)
}
