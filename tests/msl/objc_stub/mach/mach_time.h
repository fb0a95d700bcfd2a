/* Stub of <mach/mach_time.h> for the syntax check of runtime/metal.m on Linux. */
#ifndef DCK_STUB_MACH_TIME_H
#define DCK_STUB_MACH_TIME_H
#include <stdint.h>
typedef struct mach_timebase_info { uint32_t numer, denom; } mach_timebase_info_data_t;
int mach_timebase_info(mach_timebase_info_data_t *info);
uint64_t mach_absolute_time(void);
#endif
