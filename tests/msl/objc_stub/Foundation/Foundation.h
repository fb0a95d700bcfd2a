/* Stub of the parts of Apple's Foundation that runtime/metal.m uses, with Apple's
 * signatures, so that metal.m can be syntax- and type-checked on Linux
 * (clang-16 -fsyntax-only -x objective-c -fblocks). Not an implementation. */
#ifndef DCK_STUB_FOUNDATION_H
#define DCK_STUB_FOUNDATION_H
#include <stdint.h>
#include <objc/runtime.h>

typedef unsigned long NSUInteger;
typedef long NSInteger;
typedef double CFTimeInterval;
typedef NSUInteger NSStringEncoding;
#define NSUTF8StringEncoding ((NSStringEncoding)4)

@protocol NSObject
- (instancetype)retain;
- (oneway void)release;
- (instancetype)autorelease;
@end

__attribute__((objc_root_class))
@interface NSObject <NSObject>
+ (instancetype)alloc;
- (instancetype)init;
@end

@interface NSString : NSObject
- (instancetype)initWithBytes:(const void *)bytes length:(NSUInteger)len encoding:(NSStringEncoding)encoding;
+ (instancetype)stringWithUTF8String:(const char *)nullTerminatedCString;
- (const char *)UTF8String;
@end

@interface NSError : NSObject
@property (readonly, copy) NSString *localizedDescription;
@end

@interface NSArray : NSObject
@property (readonly) NSUInteger count;
- (id)objectAtIndex:(NSUInteger)index;
- (instancetype)initWithObjects:(id)firstObj, ... __attribute__((sentinel));
@end

@interface NSProcessInfo : NSObject
+ (NSProcessInfo *)processInfo;
@property (readonly, copy) NSString *operatingSystemVersionString;
@end
#endif
