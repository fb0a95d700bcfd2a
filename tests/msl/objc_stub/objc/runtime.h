/* Stub of <objc/runtime.h> for the syntax check of runtime/metal.m on Linux. */
#ifndef DCK_STUB_OBJC_RUNTIME_H
#define DCK_STUB_OBJC_RUNTIME_H
typedef signed char BOOL;
#define YES ((BOOL)1)
#define NO ((BOOL)0)
#ifndef nil
#define nil ((id)0)
#endif
id objc_getClass(const char *name);
#endif
