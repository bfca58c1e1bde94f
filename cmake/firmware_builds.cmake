# The collection firmware (firmware_template/) built for the emulated boards, so that `tml flash`
# can start them: qemu-m4 with the arm-none-eabi toolchain, host with the host compiler. Both are
# standalone CMake projects (ExternalProject), output under ${PROJECT_BINARY_DIR}/firmware/<board>/.
include(ExternalProject)
set(TML_FIRMWARE_BINARY_DIR ${PROJECT_BINARY_DIR}/firmware)
ExternalProject_Add(tml_firmware_qemu_m4
  SOURCE_DIR ${PROJECT_SOURCE_DIR}/firmware_template
  BINARY_DIR ${TML_FIRMWARE_BINARY_DIR}/qemu-m4
  CMAKE_ARGS
    -DCMAKE_TOOLCHAIN_FILE=${PROJECT_SOURCE_DIR}/cmake/arm-none-eabi.cmake
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
    -DTML_BOARD=qemu-m4
  BUILD_COMMAND ${CMAKE_COMMAND} --build <BINARY_DIR>
  BUILD_ALWAYS ON
  INSTALL_COMMAND ""
  BUILD_BYPRODUCTS ${TML_FIRMWARE_BINARY_DIR}/qemu-m4/collect.elf)
ExternalProject_Add(tml_firmware_host
  SOURCE_DIR ${PROJECT_SOURCE_DIR}/firmware_template
  BINARY_DIR ${TML_FIRMWARE_BINARY_DIR}/host
  CMAKE_ARGS
    -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER}
    -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
    -DTML_BOARD=host
  BUILD_COMMAND ${CMAKE_COMMAND} --build <BINARY_DIR>
  BUILD_ALWAYS ON
  INSTALL_COMMAND ""
  BUILD_BYPRODUCTS ${TML_FIRMWARE_BINARY_DIR}/host/collect_host)
